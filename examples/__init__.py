"""Resource services built on the iamconsole_resource client package (no Django)."""
