"""System checks of Network (secret key configuration)."""
