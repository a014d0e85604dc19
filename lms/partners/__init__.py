"""The programme's partner organisations: the public map and directory, and their administration."""
