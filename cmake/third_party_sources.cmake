# The pinned sources of the C and C++ libraries testmap links, used where Debian's -dev
# packages are not installed (a stock CI runner, a manylinux container, a slim image).
# One entry per library: "name|file|sha256|url..." (the URLs are tried in turn). The sdist
# carries every file in third_party/ (cmake/fetch_third_party.cmake, `make sdist`), so building it needs no
# network; a git checkout without the -dev packages downloads them once into the build dir.
# Debian's pool keeps the orig tarballs of its packages (the versions the developer build
# uses); SQLite and toml++ come from sdists on PyPI that carry their sources (sqlean.py
# appends an extension loader to the SQLite amalgamation, which the build leaves out).
set(TESTMAP_DEBIAN_POOL "http://deb.debian.org/debian/pool/main")
set(TESTMAP_DEBIAN_SNAPSHOT "https://snapshot.debian.org/archive/debian/20250520T000000Z/pool/main")
set(TESTMAP_THIRD_PARTY
  "sqlite|sqlean_py-3.50.4.5.tar.gz|9764b565e7ab430ab6e9e43cb2816199c2b39926dffc93c212a52f0019278459|https://files.pythonhosted.org/packages/ec/61/5332f923ec20c0b3ae9b3cf05731049bd4d17714dce1dbbc69129264664e/sqlean_py-3.50.4.5.tar.gz"
  "tomlplusplus|pytomlpp-1.1.0.tar.gz|61a0f73e7ba2fe8bba4e99ce6d2701491885850b53aad8f3e46d03c4b31e594d|https://files.pythonhosted.org/packages/10/fe/50ca1ac0c1a932d3e71311baff531c0395e546ec0cd42bc8a8a88c36e00b/pytomlpp-1.1.0.tar.gz"
  "cli11|cli11_2.1.2+ds.orig.tar.xz|8143d20b688e98ccce8e24562d3b68e5f47c12e896c42c7ca8553dbde5bed55d|${TESTMAP_DEBIAN_POOL}/c/cli11/cli11_2.1.2+ds.orig.tar.xz|${TESTMAP_DEBIAN_SNAPSHOT}/c/cli11/cli11_2.1.2+ds.orig.tar.xz"
  "nlohmann_json|nlohmann-json3_3.11.2.orig.tar.gz|d69f9deb6a75e2580465c6c4c5111b89c4dc2fa94e3a85fcd2ffcd9a143d9273|${TESTMAP_DEBIAN_POOL}/n/nlohmann-json3/nlohmann-json3_3.11.2.orig.tar.gz|${TESTMAP_DEBIAN_SNAPSHOT}/n/nlohmann-json3/nlohmann-json3_3.11.2.orig.tar.gz"
  "simdjson|simdjson_3.0.1.orig.tar.gz|156b1bc5eb0561b2bd166b46d191fd3d95a3e709cc63761477d3b7aec2b6e9ed|${TESTMAP_DEBIAN_POOL}/s/simdjson/simdjson_3.0.1.orig.tar.gz|${TESTMAP_DEBIAN_SNAPSHOT}/s/simdjson/simdjson_3.0.1.orig.tar.gz"
  "pugixml|pugixml_1.13.orig.tar.gz|5c5ad5d7caeb791420408042a7d88c2c6180781bf218feca259fd9d840a888e1|${TESTMAP_DEBIAN_POOL}/p/pugixml/pugixml_1.13.orig.tar.gz|${TESTMAP_DEBIAN_SNAPSHOT}/p/pugixml/pugixml_1.13.orig.tar.gz"
  "fmt|fmtlib_9.1.0+ds1.orig.tar.gz|84ce1c2d0be3a9863935137969dcec6970125caac032f82474640bfc81463583|${TESTMAP_DEBIAN_POOL}/f/fmtlib/fmtlib_9.1.0+ds1.orig.tar.gz|${TESTMAP_DEBIAN_SNAPSHOT}/f/fmtlib/fmtlib_9.1.0+ds1.orig.tar.gz"
  "mimalloc|mimalloc_2.0.9+ds.orig.tar.xz|cbc9d207ff105ad1f0cb739c378076143a6452b8d0624309cea0abfb040e972b|${TESTMAP_DEBIAN_POOL}/m/mimalloc/mimalloc_2.0.9+ds.orig.tar.xz|${TESTMAP_DEBIAN_SNAPSHOT}/m/mimalloc/mimalloc_2.0.9+ds.orig.tar.xz"
  "libyaml|libyaml_0.2.5.orig.tar.gz|fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e|${TESTMAP_DEBIAN_POOL}/liby/libyaml/libyaml_0.2.5.orig.tar.gz|${TESTMAP_DEBIAN_SNAPSHOT}/liby/libyaml/libyaml_0.2.5.orig.tar.gz"
  "xxhash|xxhash_0.8.1.orig.tar.gz|3bb6b7d6f30c591dd65aaaff1c8b7a5b94d81687998ca9400082c739a690436c|${TESTMAP_DEBIAN_POOL}/x/xxhash/xxhash_0.8.1.orig.tar.gz|${TESTMAP_DEBIAN_SNAPSHOT}/x/xxhash/xxhash_0.8.1.orig.tar.gz"
)
