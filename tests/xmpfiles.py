"""Other programs' sidecars, as they write them: darktable's and Lightroom's (for the tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: A darktable sidecar: a person's 2 stars, keywords and a two-step edit history.
DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:darktable="http://darktable.sf.net/"
   xmp:Rating="2"
   xmpMM:DerivedFrom="{name}"
   darktable:xmp_version="5"
   darktable:history_end="2">
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1"
       darktable:modversion="6" darktable:params="00000000000080b9"/>
     <rdf:li darktable:num="1" darktable:operation="colorbalancergb" darktable:enabled="1"
       darktable:modversion="5" darktable:params="gz12eJxjYGBgsGBgYGBAYWBgYGAAAB/8AgM="/>
    </rdf:Seq>
   </darktable:history>
   <dc:subject><rdf:Bag><rdf:li>menu</rdf:li><rdf:li>mains</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

#: Lightroom Classic's sidecar of a RAW: rating, colour label, develop settings, keywords.
LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:Rating="1"
   xmp:Label="Red"
   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 12.0 (Windows)"
   {sidecar_for}
   crs:Version="15.0"
   crs:Exposure2012="+0.35">
   <dc:subject><rdf:Bag><rdf:li>menu</rdf:li><rdf:li>pasta</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def darktable(name: str) -> bytes:
    return DARKTABLE.replace("{name}", name).encode("utf-8")


def lightroom(sidecar_for: str | None = "NEF") -> bytes:
    line = f'photoshop:SidecarForExtension="{sidecar_for}"' if sidecar_for else ""
    return LIGHTROOM.replace("{sidecar_for}", line).encode("utf-8")


def xmp_digest(root: Path) -> dict[str, str]:
    """sha256 of every ``.xmp`` file under ``root`` (any case), by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() == ".xmp"}
