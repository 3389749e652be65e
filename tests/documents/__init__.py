"""Collections: parsing, chunking, embedding, Chroma, crashes and concurrency."""
