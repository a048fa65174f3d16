"""Every extension loads, the catalogs agree, and replies don't bypass the catalog."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import cogs
from bot.app import EXTENSIONS
from bot.i18n import COUNT_PLACEHOLDERS, LOCALES, PLURAL_CATEGORIES, Catalog

ROOT = Path(__file__).resolve().parents[2]


# The one module that wires the core (bot/) to the Discord layer (cogs/).
COMPOSITION_ROOT = "bot/app.py"


def test_every_extension_is_listed_imports_and_has_setup() -> None:
    found = {
        f"cogs.{info.name}"
        for info in pkgutil.iter_modules(cogs.__path__)
        if not info.name.startswith("_")
    }
    assert set(EXTENSIONS) == found, "bot/app.py EXTENSIONS must list every cogs/ package"
    for name in EXTENSIONS:
        module = importlib.import_module(name)
        assert callable(getattr(module, "setup", None)), f"{name} has no setup()"


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    catalog = Catalog.load()
    english = catalog.messages["en"]
    for locale in LOCALES:
        assert set(catalog.messages[locale]) == set(english), locale
        for key in english:
            assert catalog.placeholders(locale, key) == catalog.placeholders("en", key), (
                locale,
                key,
            )


def _is_count(name: str) -> bool:
    return name in COUNT_PLACEHOLDERS or name.endswith("_count")


# A count placeholder right before a word in -s: "{limit} pictures" reads "1 pictures".
_COUNT_BEFORE_PLURAL = re.compile(r"\{(\w+)\}\s+([A-Za-z]+s)\b")


def test_english_counts_before_a_plural_noun_have_plural_forms() -> None:
    """The rule the catalog docstring states: "(s)", or a count placeholder (a name in
    COUNT_PLACEHOLDERS or ending in ``_count``) before a plural noun, in a plain English
    message means it needs {"one": …, "other": …} forms."""
    english = Catalog.load().messages["en"]
    offenders = []
    for key, template in english.items():
        if not isinstance(template, str):
            continue
        counted = [n for n, _ in _COUNT_BEFORE_PLURAL.findall(template) if _is_count(n)]
        if "(s)" in template or counted:
            offenders.append(f"{key}: {template}")
    assert not offenders, "\n".join(offenders)


def test_the_rule_catches_what_it_is_meant_to() -> None:
    for text in ("{count} pictures", "{n} days", "Up to {max} favorites", "{total} file(s)"):
        found = [n for n, _ in _COUNT_BEFORE_PLURAL.findall(text) if _is_count(n)]
        assert found or "(s)" in text, text
    for text in ("{count} more", "{n} a day", "{name} is here", "{count} left"):
        assert not [n for n, _ in _COUNT_BEFORE_PLURAL.findall(text) if _is_count(n)], text


def test_plural_messages_have_their_locales_forms_and_their_number() -> None:
    catalog = Catalog.load()
    for locale in LOCALES:
        for key, template in catalog.messages[locale].items():
            if isinstance(template, str):
                continue
            forms = set(template) - {"by"}
            assert forms == set(PLURAL_CATEGORIES[locale]), (locale, key, forms)
            selector = template.get("by", "count")
            assert _is_count(selector), (locale, key, selector)
            other = catalog.forms(locale, key)["other"]
            assert "{" + selector + "}" in other, (locale, key, selector)


def test_command_localisations_are_single_texts() -> None:
    """Discord takes one text per command name or description: no plural forms there."""
    catalog = Catalog.load()
    for locale in LOCALES:
        for key, template in catalog.messages[locale].items():
            if key.startswith(("cmd.", "opt.")):
                assert isinstance(template, str), (locale, key)


def test_every_catalog_key_used_in_code_exists() -> None:
    english = Catalog.load().messages["en"]
    pattern = re.compile(
        r"""["']((?:error|queue|progress|picture|button|modal|favorite|delivery|alert)\.[a-z0-9_.]+)["']"""
    )
    missing = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("cogs/**/*.py")]:
        for key in pattern.findall(path.read_text()):
            if key not in english:
                missing.add((path.name, key))
    assert not missing


def test_cogs_send_no_literal_text() -> None:
    """Replies go through the catalog: no string literal as content= in the Discord layer."""
    offenders = []
    for path in ROOT.glob("cogs/**/*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""\b(content|label|title|placeholder)=\s*f?["'][A-Za-z]""", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, read from its syntax tree (``import x``, ``from x import
    y``, also inside functions and ``TYPE_CHECKING`` blocks)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _imports(path: Path, package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in _imported_modules(path))


def _production_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted(ROOT.glob(f"{folder}/**/*.py"))]


def test_only_the_composition_root_knows_both_layers() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _production_files("bot")
        if _imports(path, "cogs") and str(path.relative_to(ROOT)) != COMPOSITION_ROOT
    ]
    assert not offenders, offenders


def test_the_rule_catches_every_spelling_of_an_import(tmp_path: Path) -> None:
    spellings = [
        "import cogs\n",
        "import cogs.pictures\n",
        "from cogs import queue\n",
        "def f():\n    from cogs.pictures.delivery import X\n",
    ]
    for number, text in enumerate(spellings):
        path = tmp_path / f"m{number}.py"
        path.write_text(text)
        assert _imports(path, "cogs"), text
    path = tmp_path / "clean.py"
    path.write_text("import cogsworth\nfrom bot.app import x\n")
    assert not _imports(path, "cogs")


def test_sql_lives_only_in_the_storage_layer() -> None:
    sql = re.compile(r"""["'](SELECT|INSERT|UPDATE|DELETE) """)
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("cogs/**/*.py")]:
        if "storage" in path.parts:
            continue
        assert not sql.search(path.read_text()), path


def _private_reads(path: Path) -> list[str]:
    """``x._name`` where ``x`` is not ``self``/``cls``: reaching into another object."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    return found


def test_no_module_reads_a_private_attribute_of_another_object() -> None:
    """discord.py's and openai's private attributes change without notice (and so may ours):
    the bot uses their public API only, e.g. ``discord.Webhook.partial(..., client=bot)``."""
    offenders = [
        hit
        for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("cogs/**/*.py")]
        for hit in _private_reads(path)
    ]
    assert not offenders, "\n".join(offenders)


def test_cogs_never_import_storage_openai_or_the_composition_root() -> None:
    """Cogs parse, call one service, render: data comes from services (records from
    bot/records.py), never from the storage layer, and images never from OpenAI directly.
    They name the bot as ``cogs._shared.context.ServicedBot``: imports run one way only."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {package}"
        for path in _production_files("cogs")
        for package in ("bot.storage", "openai", "bot.app")
        if _imports(path, package)
    ]
    assert not offenders, offenders


def test_no_extension_imports_another() -> None:
    """Extensions share code through cogs/_shared, so each can be read (and unloaded) alone."""
    offenders = []
    for path in _production_files("cogs"):
        parts = path.relative_to(ROOT / "cogs").parts
        if parts[0].startswith("_"):
            continue
        own = f"cogs.{parts[0].removesuffix('.py')}"
        for module in _imported_modules(path):
            if module.startswith("cogs.") and not module.startswith(("cogs._shared", own)):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders, offenders


MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
# A longer function says why in a comment that starts with this.
LONG_FUNCTION_MARK = "# Long:"


def _function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of code from the first statement after the docstring to the end."""
    body = node.body
    if (
        len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return (node.end_lineno or node.lineno) - body[0].lineno + 1


def test_production_files_and_functions_stay_small() -> None:
    offenders = []
    for path in _production_files("bot", "cogs"):
        text = path.read_text("utf-8")
        lines = text.splitlines()
        if len(lines) > MAX_FILE_LINES:
            offenders.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if _function_lines(node) <= MAX_FUNCTION_LINES:
                continue
            source = lines[node.lineno - 1 : node.end_lineno]
            if not any(line.strip().startswith(LONG_FUNCTION_MARK) for line in source):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}()")
    assert not offenders, "\n".join(offenders)


def test_every_benchmark_script_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks import test fakes and helpers; a move there must not break them
    silently (CI runs no benchmark)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    for path in sorted((ROOT / "bench").glob("*.py")):
        importlib.import_module(path.stem)
