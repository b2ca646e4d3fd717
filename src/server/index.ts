// The server's public surface: build one in process (tests, embedding) or run the `serve` command.
export { createServer, type InstructboothServer } from './app.js';
export { type ServerOptions, DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, planListen } from './options.js';
export { serveCommand, databasePath, SERVE_USAGE, type ServeIo } from './serve-command.js';
