"""Points, levels, badges and leaderboards over the API."""
