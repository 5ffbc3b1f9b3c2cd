"""tresty's example Python runtimes (docs/runtimes.md, "Python"): echo and digest."""
