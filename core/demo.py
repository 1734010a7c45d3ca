"""The demo province that `make run` loads on first run (`flask setup`, `flask demo load`): the
survey's units, counters, administrator and responses, then the PAKN staff and cases. core calls
the two modules' loaders in turn, as it registers their blueprints."""


def load_demo_province(base_url: str, seed: int = 2024) -> tuple[tuple[str, str], str]:
    """Load it all; return ((the administrator's e-mail, password), one survey point's URL)."""
    from feedback.demo import load_demo_pakn
    from survey.demo import load_demo

    login, url = load_demo(base_url, seed)
    load_demo_pakn(seed)
    return login, url
