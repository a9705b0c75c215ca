"""SBML ``notes`` (XHTML) and il6sim ``annotation`` elements, built as libsbml XML nodes.

Notes are the human-readable part (SBML L3V2 §3.2.3: XHTML in the ``notes`` element); the
annotation (§3.2.4) keeps the declaration in machine-readable form, in the il6sim namespace
:data:`ANNOTATION_NS`, so that the pint unit string, block and source survive a round trip.
Text is passed to libsbml as character nodes and escaped by libsbml when the file is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import libsbml

from ..errors import ModelError

XHTML_NS = "http://www.w3.org/1999/xhtml"

#: Namespace of the il6sim annotation element ``<il6sim:declaration .../>``.
ANNOTATION_NS = "urn:il6sim:sbml:annotation:v1"
ANNOTATION_PREFIX = "il6sim"


def ensure_ok(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelError(
            f"SBML export: {what} failed ({libsbml.OperationReturnValue_toString(code)}); "
            "fix: report this as an il6sim bug"
        )


def xhtml_notes(fields: Iterable[tuple[str, str]]) -> libsbml.XMLNode:
    """An XHTML ``<body>`` with one ``<p>`` per non-empty ``(label, text)`` field."""
    namespaces = libsbml.XMLNamespaces()
    namespaces.add(XHTML_NS, "")
    body = libsbml.XMLNode(
        libsbml.XMLTriple("body", XHTML_NS, ""), libsbml.XMLAttributes(), namespaces
    )
    for label, text in fields:
        if not str(text).strip():
            continue
        paragraph = libsbml.XMLNode(libsbml.XMLTriple("p", XHTML_NS, ""), libsbml.XMLAttributes())
        paragraph.addChild(libsbml.XMLNode(libsbml.XMLToken(f"{label}: {text}")))
        body.addChild(paragraph)
    return body


def declaration_annotation(attributes: Mapping[str, str]) -> libsbml.XMLNode:
    """``<il6sim:declaration key="value" .../>`` for the non-empty ``attributes``."""
    namespaces = libsbml.XMLNamespaces()
    namespaces.add(ANNOTATION_NS, ANNOTATION_PREFIX)
    attrs = libsbml.XMLAttributes()
    for key, value in attributes.items():
        if str(value):
            attrs.add(key, str(value))
    triple = libsbml.XMLTriple("declaration", ANNOTATION_NS, ANNOTATION_PREFIX)
    return libsbml.XMLNode(triple, attrs, namespaces)


def describe(element: libsbml.SBase, fields: Iterable[tuple[str, str]],
             attributes: Mapping[str, str] | None = None) -> None:
    """Attach XHTML notes (and an il6sim annotation) to an SBML element."""
    ensure_ok(element.setNotes(xhtml_notes(fields)), f"notes of '{element.getId()}'")
    if attributes:
        ensure_ok(element.appendAnnotation(declaration_annotation(attributes)),
               f"annotation of '{element.getId()}'")


def read_declaration(element: libsbml.SBase) -> dict[str, str]:
    """The attributes of an element's il6sim annotation (empty if it has none)."""
    annotation = element.getAnnotation()
    if annotation is None:
        return {}
    for i in range(annotation.getNumChildren()):
        child = annotation.getChild(i)
        if child.getURI() == ANNOTATION_NS and child.getName() == "declaration":
            attrs = child.getAttributes()
            return {attrs.getName(j): attrs.getValue(j) for j in range(attrs.getLength())}
    return {}
