"""ganforge.gans."""
