"""Git: checkout and fetch, commit facts, changed paths between commits."""
