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
