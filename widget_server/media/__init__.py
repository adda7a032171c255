"""Uploaded images (profile logos): checked by content, kept in the database so any number of
app processes serve them (B-6), and served from a content-addressed, cookie-less URL."""
