"""The codes that open a PAKN or a receipt's survey, and API keys, cut out of URLs before they
are logged.

A tracking code is enough to read a case (/track/<code>, /track?code=, Open311's
tokens/<code>.json), a receipt code to answer a survey (/r/<code>, /r?code=) or to name its
dossier in a PAKN (/pakn/new?receipt=, from the survey's thank-you page), a password-reset
link to take a staff account (/login/reset/<token>), a partner's API key to act as it (Open311's
?api_key=, its GET requests' way): a log keeps their first two characters.
A survey point's token (/s/<token>) is printed on posters and kept.
"""

import re

SLASH = "(?:/|%2F)"  # a path inside a query (?next=%2Ftrack%2F…) is percent-encoded
CODE = re.compile(
    rf"((?:{SLASH}(?:track|r|tokens|login{SLASH}reset){SLASH}"
    r"|(?:^|[?&]|%3F|%26)(?:code|receipt|api_key)(?:=|%3D)))"
    r"((?:(?!%2F|%3F|%26|%23)[^/?&#\s\"])+)",  # up to the next part of the URL
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Return text with each code in a URL cut to its first two characters and '...'."""
    # ASCII: a log file opened in a locale's encoding other than UTF-8 takes it too.
    return CODE.sub(lambda m: f"{m[1]}{m[2][:2]}...", text)
