"""Domain XML from templates (lxml), checked before libvirt sees it.

A template is a libvirt domain XML file whose text and attribute values may
hold ``${variable}`` placeholders (:class:`string.Template`: no code runs). The
template of a server is the first of ``flavor-<flavor name>.xml``,
``backend-<backend name>.xml``, ``domain.xml`` found in the operator's
directory (``CYCLADES["LIBVIRT_TEMPLATE_DIR"]``), then in the built-in one.

The rendered XML is validated against libvirt's own domain schema
(``domain.rng``, shipped with libvirt) and must not keep a placeholder; a
template that fails raises :class:`TemplateError` naming the file, the
element and the line.
"""

from __future__ import annotations

import functools
import os
import string
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from lxml import etree

from logic.errors import InvalidInput

BUILTIN_DIR = Path(__file__).with_name("templates")
SCHEMA = Path(os.environ.get("CYCLADES_LIBVIRT_SCHEMA", "/usr/share/libvirt/schemas/domain.rng"))
#: namespace of the ownership element in ``<metadata>`` (fixed in the template: XML namespaces are not templated)
METADATA_NS = "https://cyclades.example/libvirt/1"


class TemplateError(InvalidInput):
    """A template that cannot be used; the message names the template, the element and the line."""


def template_dirs() -> list[Path]:
    """The operator's template directory (if set), then the built-in one."""
    extra = settings.CYCLADES.get("LIBVIRT_TEMPLATE_DIR") or ""
    return [Path(extra), BUILTIN_DIR] if extra else [BUILTIN_DIR]


def candidates(flavor_name: str | None, backend_name: str | None) -> list[str]:
    names = []
    if flavor_name:
        names.append(f"flavor-{flavor_name}.xml")
    if backend_name:
        names.append(f"backend-{backend_name}.xml")
    return [*names, "domain.xml"]


def find_template(flavor_name: str | None, backend_name: str | None) -> Path:
    for name in candidates(flavor_name, backend_name):
        for directory in template_dirs():
            path = directory / name
            if path.is_file():
                return path
    raise TemplateError(f"no domain template ({', '.join(candidates(flavor_name, backend_name))}) in {template_dirs()}")


@functools.cache
def _schema() -> etree.RelaxNG | None:
    if not SCHEMA.is_file():
        return None
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


def _element_name(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else str(el.tag)


def _fill(path: Path, el: etree._Element, where: str, text: str | None, values: Mapping[str, str]) -> str | None:
    if text is None or "$" not in text:
        return text
    try:
        return string.Template(text).substitute(values)
    except KeyError as exc:
        raise TemplateError(
            f"domain template {path}: element <{_element_name(el)}> (line {el.sourceline}) {where} uses unknown variable ${{{exc.args[0]}}}"
        ) from exc
    except ValueError as exc:
        raise TemplateError(
            f"domain template {path}: element <{_element_name(el)}> (line {el.sourceline}) {where}: {exc}"
        ) from exc


def render(path: Path, values: Mapping[str, object]) -> str:
    """The domain XML of template ``path`` with ``values``; validated (:func:`validate`)."""
    strings = {k: str(v) for k, v in values.items()}
    try:
        tree = etree.parse(str(path), etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise TemplateError(f"domain template {path} is not well-formed XML: {exc}") from exc
    for el in tree.getroot().iter():
        if not isinstance(el.tag, str):
            continue
        el.text = _fill(path, el, "text", el.text, strings)
        el.tail = _fill(path, el, "tail", el.tail, strings)
        for key, value in el.attrib.items():
            el.set(key, _fill(path, el, f"attribute {key}", value, strings))
    validate(tree.getroot(), str(path))
    return etree.tostring(tree.getroot(), encoding="unicode")


def validate(root: etree._Element, source: str) -> None:
    """Refuse what libvirt's domain schema refuses, naming the element (and its line in the template)."""
    if _element_name(root) != "domain":
        raise TemplateError(f"domain template {source}: the root element is <{_element_name(root)}>, not <domain>")
    schema = _schema()
    if schema is None or schema.validate(root):
        return
    errors = list(schema.error_log)
    raise TemplateError(f"domain template {source} is not a valid libvirt domain: {_culprit(schema, root, errors)}")


def _culprit(schema: etree.RelaxNG, root: etree._Element, errors: list) -> str:
    """The schema's complaint, made precise: the deepest element it names, and the child of it
    whose removal makes the document valid (RELAX NG reports "extra element in interleave"
    about the parent, not the child at fault)."""
    tree = root.getroottree()
    with_path = [e for e in errors if e.path]
    deepest = max(with_path, key=lambda e: e.path.count("/"), default=None)
    found = tree.xpath(deepest.path) if deepest is not None else []
    parent = found[0] if found else root
    message = deepest.message if deepest is not None else (errors[0].message if errors else "invalid")
    for index, child in enumerate(parent):
        if not isinstance(child.tag, str):
            continue
        trial = etree.fromstring(etree.tostring(root))
        trial_parent = trial.getroottree().xpath(tree.getpath(parent))[0]
        del trial_parent[index]
        if schema.validate(trial):
            return f"element <{_element_name(child)}> (line {child.sourceline}) is not allowed there or is malformed"
    return f"element <{_element_name(parent)}> (line {parent.sourceline}): {message}"


def render_for(*, flavor_name: str | None, backend_name: str | None, values: Mapping[str, object]) -> str:
    return render(find_template(flavor_name, backend_name), values)


SAMPLE_VALUES = {
    "domain_type": "qemu",
    "name": "check-0",
    "server_id": 0,
    "user_id": "u",
    "project_id": "p",
    "flavor": "f",
    "image": "i",
    "memory_mib": 128,
    "vcpus": 1,
}


def check_templates(backend_name: str, domain_type: str) -> list[Path]:
    """Render every template that may apply to backend ``backend_name`` with sample values; the ones checked.

    Called at backend-add: a broken template is refused there rather than at a server's creation.
    """
    checked = []
    for directory in template_dirs():
        if not directory.is_dir():
            raise TemplateError(f"the domain template directory {directory} does not exist")
        for path in sorted(directory.glob("*.xml")):
            if path.name.startswith("backend-") and path.name != f"backend-{backend_name}.xml":
                continue
            render(path, {**SAMPLE_VALUES, "domain_type": domain_type})
            checked.append(path)
    return checked
