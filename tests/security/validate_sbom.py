#!/usr/bin/env python3
"""Validates an SBOM that `prodsprint check --sbom` wrote.

  validate_sbom.py cyclonedx FILE SCHEMA_DIR
      against the published CycloneDX 1.5 JSON schema (SCHEMA_DIR: the
      res/schema folder of the npm package @cyclonedx/cyclonedx-library,
      which scripts/install-deps puts in build/tools).
  validate_sbom.py spdx FILE
      against the SPDX 2.3 specification's rules for JSON documents (its
      published JSON schema is not packaged by Debian or npm, so the
      required fields, identifiers, enumerations and references are checked
      here, clause by clause).

Exit 0 when valid; otherwise the errors, one per line, and exit 1.
"""
import json
import os
import re
import sys


def cyclonedx(path, schema_dir):
    import jsonschema

    def load(name):
        with open(os.path.join(schema_dir, name)) as f:
            return json.load(f)

    bom_schema = load("bom-1.5.SNAPSHOT.schema.json")
    # The BOM schema refers to its neighbours by relative URIs.
    store = {}
    for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
        schema = load(name)
        store["http://cyclonedx.org/schema/" + name] = schema
        store[schema["$id"]] = schema
    with open(path) as f:
        doc = json.load(f)
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            (uri, Resource.from_contents(s)) for uri, s in store.items())
        validator = jsonschema.Draft7Validator(bom_schema, registry=registry)
    except ImportError:  # Debian 12's 4.10
        resolver = jsonschema.RefResolver.from_schema(bom_schema, store=store)
        validator = jsonschema.Draft7Validator(bom_schema, resolver=resolver)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print("/".join(str(p) for p in e.path), e.message)
    # Beyond the schema: every dependency ref names a component (or the
    # metadata component), and bom-refs are unique.
    refs = [c["bom-ref"] for c in doc.get("components", [])]
    problems = []
    if len(refs) != len(set(refs)):
        problems.append("duplicate bom-ref")
    known = set(refs) | {doc["metadata"]["component"]["bom-ref"]}
    for d in doc.get("dependencies", []):
        for r in [d["ref"]] + d.get("dependsOn", []):
            if r not in known:
                problems.append("dependency ref %r names no component" % r)
    for p in problems:
        print(p)
    return not errors and not problems


SPDXID = re.compile(r"^SPDXRef-[A-Za-z0-9.\-]+$")
CHECKSUM_ALGS = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "SHA3-256", "SHA3-384",
                 "SHA3-512", "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3", "MD2",
                 "MD4", "MD5", "MD6", "ADLER32"}
RELATIONSHIPS = {"DESCRIBES", "DESCRIBED_BY", "CONTAINS", "CONTAINED_BY", "DEPENDS_ON",
                 "DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF",
                 "BUILD_DEPENDENCY_OF", "RUNTIME_DEPENDENCY_OF", "TEST_DEPENDENCY_OF",
                 "DEPENDENCY_MANIFEST_OF", "GENERATED_FROM", "GENERATES", "OTHER"}
PURPOSES = {"APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "OPERATING-SYSTEM", "DEVICE",
            "FIRMWARE", "SOURCE", "ARCHIVE", "FILE", "INSTALL", "OTHER"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PURL = re.compile(r"^pkg:[a-z0-9.+-]+/[^@]+(@.+)?$")


def spdx(path):
    with open(path) as f:
        doc = json.load(f)
    errs = []

    def need(obj, key, where, kind=str):
        if key not in obj:
            errs.append("%s: missing %s" % (where, key))
            return None
        if not isinstance(obj[key], kind):
            errs.append("%s: %s is not %s" % (where, key, kind.__name__))
            return None
        return obj[key]

    # 6 Document creation information.
    if need(doc, "spdxVersion", "document") != "SPDX-2.3":
        errs.append("spdxVersion is not SPDX-2.3")
    if need(doc, "dataLicense", "document") != "CC0-1.0":
        errs.append("dataLicense must be CC0-1.0 (6.2)")
    if need(doc, "SPDXID", "document") != "SPDXRef-DOCUMENT":
        errs.append("the document's SPDXID must be SPDXRef-DOCUMENT (6.3)")
    need(doc, "name", "document")
    ns = need(doc, "documentNamespace", "document") or ""
    if not re.match(r"^[a-z][a-z0-9+.-]*://", ns) or "#" in ns:
        errs.append("documentNamespace must be an absolute URI without '#' (6.5)")
    ci = need(doc, "creationInfo", "document", dict) or {}
    if not DATE.match(ci.get("created", "")):
        errs.append("creationInfo.created must be YYYY-MM-DDThh:mm:ssZ (6.9)")
    creators = ci.get("creators")
    if not creators or not all(re.match(r"^(Tool|Organization|Person): .+", c) for c in creators):
        errs.append("creationInfo.creators must name Tool:/Organization:/Person: (6.8)")
    # 7 Packages.
    ids = {"SPDXRef-DOCUMENT"}
    for i, p in enumerate(doc.get("packages", [])):
        where = "packages[%d]" % i
        sid = need(p, "SPDXID", where) or ""
        if not SPDXID.match(sid):
            errs.append("%s: SPDXID %r does not match SPDXRef-[idstring] (7.2)" % (where, sid))
        if sid in ids:
            errs.append("%s: duplicate SPDXID %s" % (where, sid))
        ids.add(sid)
        need(p, "name", where)
        dl = need(p, "downloadLocation", where)
        if dl is not None and dl not in ("NOASSERTION", "NONE") and "://" not in dl:
            errs.append("%s: downloadLocation must be a URL, NONE or NOASSERTION (7.7)" % where)
        if "filesAnalyzed" in p and not isinstance(p["filesAnalyzed"], bool):
            errs.append("%s: filesAnalyzed is a boolean (7.8)" % where)
        for c in p.get("checksums", []):
            if c.get("algorithm") not in CHECKSUM_ALGS:
                errs.append("%s: checksum algorithm %r (7.10)" % (where, c.get("algorithm")))
            if not re.match(r"^[0-9a-f]+$", c.get("checksumValue", "")):
                errs.append("%s: checksumValue must be lower-case hex (7.10)" % where)
        for key in ("licenseConcluded", "licenseDeclared"):
            if key in p and not isinstance(p[key], str):
                errs.append("%s: %s is a string (7.13/7.15)" % (where, key))
        if p.get("primaryPackagePurpose", "OTHER") not in PURPOSES:
            errs.append("%s: primaryPackagePurpose %r (7.24)" % (where, p["primaryPackagePurpose"]))
        for r in p.get("externalRefs", []):
            if r.get("referenceCategory") not in ("SECURITY", "PACKAGE-MANAGER", "PERSISTENT-ID", "OTHER"):
                errs.append("%s: referenceCategory %r (7.21)" % (where, r.get("referenceCategory")))
            if r.get("referenceType") == "purl" and not PURL.match(r.get("referenceLocator", "")):
                errs.append("%s: purl %r is not a package URL" % (where, r.get("referenceLocator")))
    # 11 Relationships.
    describes = False
    for i, r in enumerate(doc.get("relationships", [])):
        where = "relationships[%d]" % i
        for key in ("spdxElementId", "relatedSpdxElement"):
            v = need(r, key, where)
            if v is not None and v not in ids and v not in ("NONE", "NOASSERTION"):
                errs.append("%s: %s %r names no element" % (where, key, v))
        if r.get("relationshipType") not in RELATIONSHIPS:
            errs.append("%s: relationshipType %r (11.1)" % (where, r.get("relationshipType")))
        if r.get("spdxElementId") == "SPDXRef-DOCUMENT" and r.get("relationshipType") == "DESCRIBES":
            describes = True
    if not describes and not doc.get("documentDescribes"):
        errs.append("the document DESCRIBES nothing (6.x: at least one element)")
    for e in errs:
        print(e)
    return not errs


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "cyclonedx":
        ok = cyclonedx(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "spdx":
        ok = spdx(sys.argv[2])
    else:
        print(__doc__)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
