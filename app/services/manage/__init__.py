"""Managing flows as a whole: rename, duplicate, archive and restore, export and import, the list's numbers."""
