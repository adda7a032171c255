"""Self-service profiles (SPEC P-1…P-9): what a merchant's customers may see and do."""
