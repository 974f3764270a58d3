"""`gateway plugins new NAME`: write a new connector distribution, ready to install and test.

The files come from `plugin_template/` (`string.Template`, `${name}` placeholders; `__package__` in a path is the
package's name). The result is a token-only, webhook-less connector for a small made-up API, its fake server, and
the conformance suite wired into its tests: it passes them as soon as it is installed (`pip install -e '.[test]'`),
and the author changes it towards their tracker from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from gateway import __version__
from gateway.core.errors import InvalidInput

TEMPLATE = Path(__file__).with_name("plugin_template")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Names:
    name: str

    @property
    def package(self) -> str:
        return f"{self.name.replace('-', '_')}_connector"

    @property
    def distribution(self) -> str:
        return f"timetracker-gateway-{self.name.replace('_', '-')}"

    @property
    def class_prefix(self) -> str:
        return "".join(part.capitalize() for part in re.split(r"[-_]", self.name))

    @property
    def title(self) -> str:
        return " ".join(part.capitalize() for part in re.split(r"[-_]", self.name))

    def values(self) -> dict[str, str]:
        release = re.match(r"\d+(\.\d+)*", __version__)
        return {
            "name": self.name,
            "package": self.package,
            "distribution": self.distribution,
            "class_prefix": self.class_prefix,
            "title": self.title,
            "gateway_version": release.group(0) if release else "0",
        }


def write_scaffold(name: str, directory: Path) -> list[Path]:
    """Write the distribution for connector `name` into `directory` (new or empty); the files written."""
    if not NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a connector name: lower case letters, digits, '_' or '-', starting with a letter"
        )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidInput(f"{directory} exists and is not an empty folder; name another with --directory")
    names = Names(name)
    values = names.values()
    written = []
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).with_suffix("")
        target = directory / Path(*(names.package if part == "__package__" else part for part in relative.parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(source.read_text()).substitute(values))
        written.append(target)
    return written
