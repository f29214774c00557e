"""Server-rendered screens. Views validate with forms and call services; they never save models."""
