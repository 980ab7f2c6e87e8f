"""``read_image``: a picture file as the user sees it."""

import numpy as np
from PIL import Image

from ganforge.data.image_files import read_image


def save_phone_photo(path) -> None:  # noqa: ANN001
    """40 wide x 20 tall as stored, left half white, tagged "rotate 90 degrees clockwise to display" (EXIF
    orientation 6, what a phone held upright writes): viewers show it 20 wide x 40 tall, top half white."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = 255
    picture = Image.fromarray(stored)
    exif = picture.getexif()
    exif[0x0112] = 6  # EXIF orientation
    picture.save(path, exif=exif.tobytes())


def test_a_phone_photo_is_read_upright(tmp_path) -> None:
    save_phone_photo(tmp_path / "phone.jpg")
    x = read_image(tmp_path / "phone.jpg")
    assert tuple(x.shape) == (3, 40, 20)
    assert float(x[:, :18].mean()) > 0.95 and float(x[:, 22:].mean()) < 0.05  # white on top, as displayed


def test_transparent_pixels_read_as_white_not_as_the_colour_they_store(tmp_path) -> None:
    """Dropping the alpha channel showed what transparent pixels happen to store: a red disc on a transparent
    ground whose hidden colour was green read with green corners. They are composited on white, as viewers show."""
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., 1] = 255  # hidden green everywhere, fully transparent
    pixels[2:6, 2:6] = (255, 0, 0, 255)  # an opaque red square
    Image.fromarray(pixels, mode="RGBA").save(tmp_path / "icon.png")
    image = read_image(tmp_path / "icon.png")
    assert image.shape == (3, 8, 8)
    assert image[:, 0, 0].tolist() == [1.0, 1.0, 1.0] and image[:, 3, 3].tolist() == [1.0, 0.0, 0.0]
    gray = np.zeros((4, 4, 2), np.uint8)
    gray[..., 1] = 0  # L 0 (black), fully transparent
    Image.fromarray(gray, mode="LA").save(tmp_path / "gray.png")
    flat = read_image(tmp_path / "gray.png")
    assert flat.shape == (1, 4, 4) and float(flat.min()) == 1.0
