"""Parses every .svg under a folder with Python's XML parser and checks that it
is an SVG document with a title and text labels (axes, tokens, legends), that
its geometry is finite (a NaN that reached a coordinate draws nothing), that
it is small, and that no half-written figure (.svg.tmp) was left beside it.
A heatmap (lessons/common/svg.cpp marks its cells <g class="cells"
data-rows="R" data-cols="C">) must have R x C cells, each with hover text,
and R row and C column labels."""
import math
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
MAX_BYTES = 512 * 1024
GEOMETRY = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height")


def finite_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def check_geometry(root):
    for element in root.iter():
        tag = element.tag.replace(NS, "")
        for name in GEOMETRY:
            value = element.get(name)
            if value is None or value.endswith("%"):
                continue
            if not finite_number(value):
                return f"<{tag} {name}=\"{value}\"> is not a finite number"
            if name in ("width", "height", "r") and float(value) < 0:
                return f"<{tag} {name}=\"{value}\"> is negative"
        points = element.get("points")
        if points is not None:
            for number in points.replace(",", " ").split():
                if not finite_number(number):
                    return f"<{tag}> has the point coordinate '{number}'"
    return None


def texts(group):
    return [t for t in group.iter(NS + "text") if "".join(t.itertext()).strip()] if group is not None else []


def check_heatmap(root):
    for cells in root.iter(NS + "g"):
        if cells.get("class") != "cells" or cells.get("data-rows") is None:
            continue
        rows, cols = int(cells.get("data-rows")), int(cells.get("data-cols"))
        rects = list(cells.iter(NS + "rect"))
        if len(rects) != rows * cols:
            return f"a heatmap of {rows} x {cols} has {len(rects)} cells"
        if any(r.find(NS + "title") is None for r in rects):
            return "a heatmap cell has no hover <title>"
        groups = {g.get("class"): g for g in root.iter(NS + "g")}
        if len(texts(groups.get("row-labels"))) != rows:
            return f"a heatmap of {rows} rows has {len(texts(groups.get('row-labels')))} row labels"
        if len(texts(groups.get("col-labels"))) != cols:
            return f"a heatmap of {cols} columns has {len(texts(groups.get('col-labels')))} column labels"
    return None


def check(path):
    size = path.stat().st_size
    if size > MAX_BYTES:
        return f"{size // 1024} KB; a figure should stay under {MAX_BYTES // 1024} KB"
    root = ET.parse(path).getroot()  # raises on malformed XML
    if root.tag != NS + "svg":
        return f"root element is {root.tag}, not svg"
    if root.find(NS + "title") is None or not (root.find(NS + "title").text or "").strip():
        return "no <title>"
    labels = texts(root)
    if len(labels) < 2:
        return f"{len(labels)} text labels; a figure needs its axes or tokens labelled"
    return check_geometry(root) or check_heatmap(root)


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
    leftovers = sorted(pathlib.Path(folder).rglob("*.svg.tmp"))
    for f in leftovers:
        print(f"check_svg: {f}: a half-written figure was left behind")
    print(f"check_svg: {len(files) - bad} of {len(files)} figures are well-formed, titled and labelled")
    return 1 if bad or leftovers else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
