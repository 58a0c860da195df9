"""The rules: workflow definitions (YAML), their validation, and the engine that fires them."""
