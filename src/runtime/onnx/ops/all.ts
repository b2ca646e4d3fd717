// Registers every op's shape inference (imported for its side effects by the builder).
import './math.js';
import './nn.js';
import './shape.js';
