"""Where data comes from: the JSON Lines importer and one connector per PSA."""
