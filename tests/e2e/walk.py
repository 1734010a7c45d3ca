"""The back office walked in a browser, one page of each shape, for the end-to-end tests."""

import re
from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Page

# Downloads, the printed and the counter's full-screen pages, and what signs out or switches.
NOT_A_PAGE = re.compile(r"logout|/lang/|/display|/print|poster|fmt=|\.(pdf|png|svg|csv|xlsx|json)")
PAGES_AT_MOST = 60


def path_shape(path: str) -> str:
    """The page a URL shows, whatever its record: ids and tokens replaced, query dropped."""
    return re.sub(r"/[A-Za-z0-9_-]{16,}|/\d+", "/N", urlsplit(path).path)


def staff_pages(
    page: Page, base_url: str, start: str, shape: Callable[[str], str] = path_shape
) -> Iterator[str]:
    """Open each back-office page a link leads to from start, one of each shape and at most
    PAGES_AT_MOST, and yield its path while it is open; then follow its links."""
    queue, seen, opened = [start], set(), 0
    while queue and opened < PAGES_AT_MOST:
        path = queue.pop(0)
        if shape(path) in seen:
            continue
        seen.add(shape(path))
        answer = page.goto(path)
        assert answer.status < 400, f"{path}: {answer.status}"
        opened += 1
        yield path
        for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
            url = urlsplit(urljoin(base_url + path, href))
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.path.startswith("/staff/") and not NOT_A_PAGE.search(target):
                queue.append(target)
