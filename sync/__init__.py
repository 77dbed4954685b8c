"""Everything that crosses the wire: tokens, keys, record signing, API schemas, the HTTP client."""
