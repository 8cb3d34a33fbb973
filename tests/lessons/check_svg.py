"""Parses every .svg under a folder with Python's XML parser and checks that it
is an SVG document with a title and text labels (axes, tokens, legends)."""
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def check(path):
    root = ET.parse(path).getroot()  # raises on malformed XML
    if root.tag != NS + "svg":
        return f"root element is {root.tag}, not svg"
    if root.find(NS + "title") is None or not (root.find(NS + "title").text or "").strip():
        return "no <title>"
    labels = [t for t in root.iter(NS + "text") if "".join(t.itertext()).strip()]
    if len(labels) < 2:
        return f"{len(labels)} text labels; a figure needs its axes or tokens labelled"
    return None


def main(folder):
    files = sorted(pathlib.Path(folder).rglob("*.svg"))
    if not files:
        print(f"check_svg: no SVG files under {folder}")
        return 1
    bad = 0
    for f in files:
        try:
            problem = check(f)
        except ET.ParseError as e:
            problem = f"not well-formed XML: {e}"
        if problem:
            bad += 1
            print(f"check_svg: {f}: {problem}")
    print(f"check_svg: {len(files) - bad} of {len(files)} figures are well-formed, titled and labelled")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
