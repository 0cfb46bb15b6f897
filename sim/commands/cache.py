"""`accsim cache [clear [STORE]]`: where the on-disk result stores are (the mapper's searches,
the DRAM playbacks; accsim.diskcache), how many entries and bytes each holds, and clearing them."""
from __future__ import annotations

NAME = "cache"


def add_parser(sub):
    parser = sub.add_parser(NAME, help="show the on-disk caches (mapper searches, DRAM playbacks) or clear them")
    parser.add_argument("action", nargs="?", choices=("show", "clear"), default="show",
                        help="show (default): directory, entries and size of each; clear: remove their entries")
    parser.add_argument("store", nargs="?", choices=("mappings", "dram"),
                        help="only this store (default: both)")
    return parser


def main(args) -> int:
    from ..api import DISK_CACHES

    stores = [s for s in DISK_CACHES.values() if args.store in (None, s.folder)]
    for store in stores:
        folder = store.directory()
        if folder is None:
            print(f"{store.folder:9s} off (${store.variable}=off)")
        elif args.action == "clear":
            print(f"{store.folder:9s} {folder}: removed {store.clear():,} entries")
        else:
            files = store.entries()
            size = sum(path.stat().st_size for path in files)
            print(f"{store.folder:9s} {folder}: {len(files):,} entries, {size / 1e6:,.1f} MB "
                  f"(${store.variable} moves it, `off` turns it off)")
    return 0
