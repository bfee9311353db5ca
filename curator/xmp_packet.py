"""Is an XMP sidecar whole?  Checked before Curator rewrites one, so a damaged one survives.

Exiv2 is lenient: a darktable sidecar cut short after 700 bytes parses as an *empty* packet,
and rewriting it from that parse replaces the person's rating, keywords and edit history with
Curator's four fields.  So a sidecar is rewritten only when all of this holds:

* it is UTF-8 (or plain ASCII): XMP also allows UTF-16 and UTF-32, but Exiv2 writes UTF-8,
  and a file in another encoding is someone else's to convert (``encoding_problem``);
* it is well-formed XML from start to end (expat, the parser in Python's standard library):
  a packet cut short, or one with junk after it, is not (``packet_problem``);
* every top-level property the XML holds (each attribute and child element of each
  ``rdf:Description``) is one Exiv2 read as well, so a rewrite from Exiv2's reading keeps them
  all (``missing_properties``).

After the merge, ``curator.sidecar`` reads the new packet back and checks that every field but
Curator's own came through unchanged (``lost_fields``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
_XML = "http://www.w3.org/XML/1998/namespace"
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"),
)
_RDF_WORDS = frozenset(("about", "ID", "nodeID", "parseType", "resource", "datatype"))
_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class Packet:
    """What the XML of a sidecar holds: its top-level properties as (namespace URI, local
    name), and ``photoshop:SidecarForExtension`` when present (e.g. ``"NEF"``)."""

    properties: frozenset[tuple[str, str]]
    sidecar_for: str | None


class PacketError(ValueError):
    """The bytes are not a whole XMP packet Curator may rewrite; the message says why, in
    words for the owner ("is written in UTF-16", "is cut short: …")."""


def encoding_problem(data: bytes) -> str | None:
    """Why ``data`` is not UTF-8 text Curator may rewrite, or None.

    A UTF-16/32 byte-order mark, NUL bytes, an XML declaration naming another encoding, or
    bytes that do not decode as UTF-8.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return f"is written in {name} (Curator rewrites only UTF-8 sidecars)"
    if b"\x00" in data:
        return "holds NUL bytes (UTF-16/32 text or not text at all)"
    decl = _DECL.match(data)
    if decl is not None:
        name = decl.group(1).decode("ascii").lower().replace("_", "-")
        if name not in ("utf-8", "utf8", "us-ascii", "ascii"):
            return (f"declares the encoding {decl.group(1).decode('ascii')} (Curator "
                    f"rewrites only UTF-8 sidecars)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not valid UTF-8 (byte {exc.start})"
    return None


def _local(tag: str) -> tuple[str, str]:
    """``{uri}name`` -> (uri, name); a name without a namespace -> ("", name)."""
    if tag.startswith("{"):
        uri, _, name = tag[1:].partition("}")
        return uri, name
    return "", tag


def read_packet(data: bytes) -> Packet:
    """Parse a sidecar's bytes; raises ``PacketError`` unless it is a whole XMP packet.

    Empty (or all-white-space) data is a packet with no properties.
    """
    if not data.strip():
        return Packet(frozenset(), None)
    why = encoding_problem(data)
    if why is not None:
        raise PacketError(why)
    parser = ET.XMLParser()  # expat: no external entities are fetched
    try:
        parser.feed(data)
        root = parser.close()
    except ET.ParseError as exc:
        line, _col = getattr(exc, "position", (0, 0))
        if "no element found" in str(exc) or "unclosed token" in str(exc):
            raise PacketError("is cut short (its XML stops in the middle)") from None
        raise PacketError(f"has damaged XML ({str(exc).split(':')[0]}, line {line})") from None
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    if rdf is None:
        raise PacketError("is XML but not an XMP packet (no rdf:RDF)")
    props: set[tuple[str, str]] = set()
    sidecar_for: str | None = None
    for desc in rdf:
        for name, value in desc.attrib.items():
            uri, local = _local(name)
            if uri in (RDF, _XML) or (not uri and local in _RDF_WORDS):
                continue  # rdf:about and the like (unqualified in pre-2004 XMP) are syntax
            props.add((uri, local))
            if (uri, local) == (PHOTOSHOP, "SidecarForExtension"):
                sidecar_for = value.strip()
        for child in desc:
            uri, local = _local(child.tag)
            props.add((uri, local))
            if (uri, local) == (PHOTOSHOP, "SidecarForExtension"):
                # Its text, or an rdf:Alt/Seq's first item (exiftool reads either).
                texts = [t.strip() for t in child.itertext() if t.strip()]
                sidecar_for = texts[0] if texts else sidecar_for
    return Packet(frozenset(props), sidecar_for or None)


def _exiv2_names(keys: Iterable[str]) -> set[str]:
    """Top-level property names in Exiv2 keys: ``Xmp.dc.subject`` and
    ``Xmp.darktable.history[1]/darktable:num`` -> ``subject``, ``history``."""
    out = set()
    for key in keys:
        parts = key.split(".", 2)
        if len(parts) == 3:
            out.add(re.split(r"[\[/]", parts[2], maxsplit=1)[0])
    return out


def missing_properties(packet: Packet, exiv2_keys: Iterable[str]) -> list[str]:
    """Local names of the packet's top-level properties that Exiv2 did not read (sorted)."""
    seen = _exiv2_names(exiv2_keys)
    return sorted({local for _uri, local in packet.properties if local not in seen})


def packet_problem(data: bytes, exiv2_keys: Iterable[str]) -> str | None:
    """Why the sidecar ``data`` (which Exiv2 read as ``exiv2_keys``) must not be rewritten,
    or None when it may be: see the module docstring."""
    try:
        packet = read_packet(data)
    except PacketError as exc:
        return str(exc)
    keys = list(exiv2_keys)
    if packet.properties and not keys:
        return "reads as empty to Exiv2 although it holds fields (damaged or unusual XMP)"
    missing = missing_properties(packet, keys)
    if missing:
        shown = ", ".join(missing[:4]) + (", …" if len(missing) > 4 else "")
        return f"cannot be read completely by Exiv2 (it drops {shown})"
    return None


def lost_fields(before: Mapping[str, object], after: Mapping[str, object],
                changed: Iterable[str]) -> list[str]:
    """Exiv2 keys whose value differs between ``before`` and ``after`` although they are not
    among ``changed`` (the fields Curator set or removed), sorted."""
    mine = set(changed)
    return sorted(k for k in set(before) | set(after)
                  if k not in mine and str(before.get(k)) != str(after.get(k)))
