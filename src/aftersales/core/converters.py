"""One id converter for every route: a row id is 1 to 18 digits (below 2^63, the databases' key range), so anything
else in an id's place is a 404 at URL resolution, never a ValueError or an OverflowError in a view."""

ROW_ID_REGEX = "[0-9]{1,18}"


class RowIdConverter:
    regex = ROW_ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
