// Gradient rules: being written (see git history).
