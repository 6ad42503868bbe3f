"""Issue 20: an .xlsx is a zip. One that would expand beyond the unpacked limit is refused for what it is (it expands
to more than N MB: not a valid spreadsheet), not as "larger than 5 MB"; an honestly big file keeps the size message."""

import io
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from aftersales.assets import importing
from aftersales.assets.importing import reading

from ..conftest import api_as


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def zip_bomb() -> bytes:
    """A few hundred kB that declare (and would inflate to) just over the unpacked limit: zeros compress ~1000:1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * 2**20
            for _ in range(reading.MAX_UNZIPPED_BYTES // 2**20 + 1):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < reading.MAX_BYTES // 10
    return data


@pytest.fixture(scope="module")
def bomb():
    return zip_bomb()


def test_a_zip_bomb_is_refused_as_one(bomb):
    importing.check_upload("devices.xlsx", len(bomb))  # small: the upload's size is fine
    with pytest.raises(importing.ImportFileError) as refused:
        importing.parse("devices.xlsx", bomb)
    message = str(refused.value.message)
    assert f"expands to more than {reading.MAX_UNZIPPED_BYTES // 2**20} MB when unpacked" in message
    assert "not a valid spreadsheet" in message and "larger than 5 MB" not in message


def test_an_honestly_big_file_keeps_the_size_message():
    with pytest.raises(importing.ImportFileError, match="larger than 5 MB"):
        importing.check_upload("devices.xlsx", reading.MAX_BYTES + 1)
    with pytest.raises(importing.ImportFileError, match="larger than 5 MB"):
        importing.parse("devices.xlsx", b"PK\x03\x04" + b"\0" * reading.MAX_BYTES)


def test_the_api_and_the_page_say_what_it_is(bomb, client, admin_user):
    api = api_as(admin_user)
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # English msgids in the assertions (Chinese is the default)
    answer = api.post("/api/devices/import/", {"file": SimpleUploadedFile("devices.xlsx", bomb)}, format="multipart")
    assert answer.status_code == 400 and "when unpacked" in str(answer.json())
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.post(reverse("assets:device_import"), {"file": SimpleUploadedFile("devices.xlsx", bomb)})
    assert page.status_code == 200 and "when unpacked" in page.content.decode()
