"""The stall's domain core: local store, authorization, sales, gates, staff sessions. No Qt."""
