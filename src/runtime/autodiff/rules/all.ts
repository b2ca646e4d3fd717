// Registers every gradient rule (imported for its side effects by backward.ts).
import './conv.js';
import './elementwise.js';
import './matmul.js';
import './norm.js';
import './reduce.js';
import './resize.js';
import './shape.js';
import './fused-attention.js';
import './fused-group-norm.js';
import './fused-silu.js';
