// `npm start`: the server with the real process (argv; SIGINT and SIGTERM stop it gracefully), as `instructbooth serve`.
import { serveProcess } from './serve-process.js';

process.exitCode = await serveProcess(process.argv.slice(2));
