"""The HTTP API: app factory, middleware, dependencies, one router per resource."""
