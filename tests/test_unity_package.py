"""The Unity package: its plain C# core compiled with Debian's mono and tested (NUnit) against the shared schema's
golden vectors; the Unity layer type-checked; the UPM layout; and a live run of the C# subscriber against our
Python publisher over real libzmq. `make test` installs mono (tools/install_mono.sh) and sets
REALHANDS_REQUIRE_MONO=1, so there these tests fail rather than skip when mono is missing."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tools.unity import harness as unity_core  # the repository root is on pytest's pythonpath (pyproject.toml)

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "unity_package"

if not unity_core.tools_present():
    if os.environ.get("REALHANDS_REQUIRE_MONO") == "1":
        raise RuntimeError("mono/mcs/nunit-console missing: run tools/install_mono.sh")
    pytestmark = pytest.mark.skip(reason="Debian mono not installed (tools/install_mono.sh; `make test` does it)")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("unity_core")
    return out, unity_core.build(out)


def test_core_nunit_suite_passes(built):
    out, _ = built
    res = unity_core.run_tests(out)
    print(res["output"])
    assert res["failures"] == 0 and res["errors"] == 0, f"failed: {res['failed']}\n{res['output'][-4000:]}"
    assert res["total"] >= 26 and res["not_run"] == 0 and res["ignored"] == 0, res["output"][-2000:]
    out_text = res["output"]
    assert "skinning: worst vertex error" in out_text and "dropped and counted" in out_text


def test_unity_layer_type_checks(built):
    out, _ = built
    unity_core.check_unity_layer(out)


def test_core_has_no_unity_dependency_and_package_layout():
    pkg = json.loads((PKG / "package.json").read_text())
    assert pkg["name"] == "com.realhands.unity" and pkg["unity"] == "2021.3"
    # the engine modules the Runtime layer uses (Texture2D.LoadImage, Animator/HumanBodyBones), so a project that
    # disabled them gets them back; no relative URLs (the Package Manager opens these as web addresses)
    assert pkg["dependencies"] == {"com.unity.modules.animation": "1.0.0", "com.unity.modules.imageconversion": "1.0.0"}
    assert not [k for k, v in pkg.items() if k.endswith("Url") and not str(v).startswith("https://")]
    assert all((PKG / s["path"]).is_dir() for s in pkg["samples"])
    for f in ("CHANGELOG.md", "LICENSE.md", "README.md", "Documentation~/index.md", "Samples~/TwoHands/TwoHands.unity"):
        assert (PKG / f).is_file(), f
    asmdefs = {p.stem: json.loads(p.read_text()) for p in PKG.rglob("*.asmdef")}
    assert set(asmdefs) == {"RealHands.Core", "RealHands.Runtime", "RealHands.XRHands", "RealHands.Editor",
                            "RealHands.Core.Tests", "RealHands.Runtime.Tests", "RealHands.Samples.XRHands"}
    sample = asmdefs["RealHands.Samples.XRHands"]  # compiles only where XR Hands is installed, as our XR layer
    assert sample["defineConstraints"] == ["REALHANDS_XR_HANDS"] and "Unity.XR.Hands" in sample["references"]
    assert asmdefs["RealHands.Core"]["noEngineReferences"] and not asmdefs["RealHands.Core"]["references"]
    assert asmdefs["RealHands.Editor"]["includePlatforms"] == ["Editor"]
    xr = asmdefs["RealHands.XRHands"]
    assert xr["defineConstraints"] == ["REALHANDS_XR_HANDS"]
    assert {d["define"] for d in xr["versionDefines"]} == {"REALHANDS_XR_HANDS", "REALHANDS_XR_HANDS_MESH"}
    for name in ("RealHands.Core.Tests", "RealHands.Runtime.Tests"):
        assert asmdefs[name]["defineConstraints"] == ["UNITY_INCLUDE_TESTS"]
    for cs in (PKG / "Runtime/Core").rglob("*.cs"):
        text = cs.read_text()
        assert "using UnityEngine" not in text and "System.Reflection" not in text, cs
    r = subprocess.run([sys.executable, "-m", "tools.unity.meta", "--check"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout
    # the sample scene's scripts are the package's, by their stable GUIDs
    scene = (PKG / "Samples~/TwoHands/TwoHands.unity").read_text()
    for script in ("Runtime/Unity/RealHandsClient.cs", "Runtime/Unity/HandAvatar.cs"):
        assert unity_core_guid(script) in scene
    assert scene.count("handedness:") == 2


def unity_core_guid(rel: str) -> str:
    from tools.unity import meta
    return meta.guid(rel)


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_live_csharp_subscriber_receives_the_python_publisher(built, tmp_path):
    """The backend streams the synthetic sequence; the C# core (RealHandsProbe) receives and decodes >= 100 frames,
    a rig and a texture, skins every hand, and reports latency."""
    out, paths = built
    port = _port()
    cfg = tmp_path / "live.toml"
    # every frame published: the count does not depend on CPU load; the generous timeouts cover the backend's start
    # on a loaded machine (the default source, the shipped stereo clip, loops until stopped)
    cfg.write_text("[live]\nrealtime = false\n")
    backend = subprocess.Popen(
        [sys.executable, "-m", "realhands.cli", "--config", str(cfg), "run", "--endpoint", f"tcp://127.0.0.1:{port}",
         "--duration", "240"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    report = tmp_path / "probe.json"
    try:
        probe = subprocess.run(["mono", str(paths["probe"]), "--endpoint", f"tcp://127.0.0.1:{port}", "--frames", "100",
                                "--timeout", "240", "--json", str(report)], capture_output=True, text=True, timeout=300)
    finally:
        backend.terminate()
        try:
            _, err = backend.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            backend.kill()
            _, err = backend.communicate()
    assert probe.returncode == 0, probe.stdout + probe.stderr + "\nbackend:\n" + (err or "")[-3000:]
    r = json.loads(report.read_text())
    print(json.dumps(r, indent=1))
    assert r["frames"] >= 100 and r["rigs"] >= 1 and r["textures"] >= 1
    assert r["decode_errors"] == 0
    assert r["hands_skinned"] >= 50 and r["rig_vertices"] > 1000
    assert r["latency_ms_median"] is not None and 0 <= r["latency_ms_median"] < 1000
    assert "jpeg" in r["texture"] or "png" in r["texture"]


# Names the five-minute guide uses that are Unity's or XR Hands', not ours (each: where it comes from).
EXTERNAL_GUIDE_NAMES = {
    "Add package from disk": "the Package Manager's + menu",
    "Camera Offset": "the XR Origin's child object (XR Core Utilities / XR Interaction Toolkit)",
    "Main Camera": "the XR Origin's camera object",
}


def _nicify(name: str) -> str:
    """A field's label in Unity's inspector (ObjectNames.NicifyVariableName for plain camelCase fields)."""
    import re

    name = re.sub(r"^(m_|_|k)(?=[A-Z_])", "", name)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name[:1].upper() + name[1:])


def test_the_five_minute_guide_names_only_what_exists():
    """The guide (Documentation~/index.md) walked through against the code, step by step: every menu path, component,
    inspector field, created object, sample and state it names in italics, and every component and setting of its
    components table, exists in the package's C# (or is one of Unity's own, listed with where it comes from)."""
    import re

    sources = "\n".join(p.read_text() for d in ("Runtime/Unity", "Runtime/XRHands", "Editor", "Runtime/Core")
                        for p in (PKG / d).rglob("*.cs"))
    components = dict(re.findall(r'AddComponentMenu\("(RealHands/([^"]+))"\)', sources))
    leaves = set(components.values())
    menus = {m.replace("/", " > ") for m in re.findall(r'MenuItem\("([^"]+)"', sources)}
    objects = set(re.findall(r'new GameObject\("([^"]+)"\)', sources))  # the menu's objects ...
    scene = set(re.findall(r"m_Name: (.+)", (PKG / "Samples~" / "TwoHands" / "TwoHands.unity").read_text()))
    assert {"RealHands", "Tracking Camera"} <= objects & scene  # ... and the sample's: the same names
    fields = {_nicify(f) for f in re.findall(r"public\s+(?!static|const|override|event|sealed|class|enum|struct|"
                                             r"void|bool Try)[\w<>\[\],.]+\s+(\w+)\s*(?:=[^;]*)?;", sources)}
    states = set(re.search(r"enum ConnectionState \{([^}]*)\}", sources).group(1).replace(" ", "").split(","))
    samples = {s["displayName"] for s in json.loads((PKG / "package.json").read_text())["samples"]}
    guide = (PKG / "Documentation~" / "index.md").read_text()
    missing = []
    for phrase in re.findall(r"(?<!\*)\*([^*\n]+)\*(?!\*)", guide):
        if "→" in phrase:  # Add Component → RealHands → <component>
            ok = phrase.split("→")[-1].strip() in leaves and phrase.split("→")[1].strip() == "RealHands"
        elif ">" in phrase:  # a menu path
            ok = phrase in menus
        else:
            ok = phrase in leaves | objects | fields | states | samples | set(EXTERNAL_GUIDE_NAMES)
        if not ok:
            missing.append(phrase)
    table = re.search(r"\| component \| what it does \| main settings \|\n\| --- .*?\n((?:\|.*\n)+)", guide).group(1)
    for row in table.strip().splitlines():
        name, _, settings = (c.strip() for c in row.strip("|").split("|"))
        missing += [f"component {n}" for n in name.split(" + ") if n not in leaves and n != "provider"]
        for s in settings.split(", "):  # written as the inspector's label in lower case ("camera anchor"); a
            label = " ".join(w[:1].upper() + w[1:] for w in s.split())  # word may name a longer field ("fade")
            if label not in fields and not any(f.startswith(label + " ") for f in fields):
                missing.append(f"setting {s} of {name}")
    assert not missing, f"the guide names what the package does not have: {missing}"
    assert {"Hand Avatar", "RealHands Client", "XR Hands Bridge", "Capture Guide Overlay"} <= leaves


# ---- the skin shader ------------------------------------------------------------------------------------------

def _require_glslang():
    from tools.unity import shaders

    if not shaders.glslang_present():
        if os.environ.get("REALHANDS_REQUIRE_MONO") == "1":
            raise RuntimeError("glslangValidator missing: run tools/install_mono.sh")
        pytest.skip("Debian glslang-tools not installed (tools/install_mono.sh; `make test` does it)")
    return shaders


def test_the_skin_shader_compiles_in_every_pipeline_and_variant():
    """Every HLSL program of the package's shaders (URP forward, shadow caster, depth, depth-normals; built-in
    ForwardBase, ForwardAdd, shadow caster), both entry points, with no keyword and each listed keyword alone:
    glslang compiles them against the pipelines' stand-in includes."""
    shaders = _require_glslang()
    res = shaders.check()
    assert not res["errors"], "\n".join(f"{k}: {v}" for k, v in res["errors"].items())
    assert res["compiled"] >= 16


def test_a_broken_skin_shader_fails_the_check(tmp_path):
    """The check can fail: the same shader with one wrong call in its lighting does not compile, in any program."""
    import shutil

    shaders = _require_glslang()
    for f in (PKG / "Runtime" / "Resources").iterdir():
        if f.suffix in (".shader", ".hlsl", ".cginc"):
            shutil.copy(f, tmp_path / f.name)
    core = tmp_path / "RealHandsSkinCore.hlsl"
    text = core.read_text()
    assert "saturate(ndl)" in text
    core.write_text(text.replace("saturate(ndl)", "saturate(ndl, s.wrap)"))
    res = shaders.check([tmp_path / "RealHandsSkin.shader"])
    assert len(res["errors"]) == res["compiled"] >= 7


def test_the_skin_shader_is_what_the_material_and_avatar_use():
    """The shader's name is the one SkinMaterial loads (from a Resources folder, so builds keep it); it declares what
    HandAvatar sets (the texture as the main texture, the fade in _Color and _BaseColor) and every property its
    programs read; one SubShader for URP, one for the built-in pipeline, a fallback; proper importers in its metas."""
    import re

    res = PKG / "Runtime" / "Resources"
    shader = (res / "RealHandsSkin.shader").read_text()
    cs = (PKG / "Runtime" / "Unity" / "SkinMaterial.cs").read_text()
    name = re.search(r'^Shader "([^"]+)"', shader, re.M).group(1)
    assert f'ShaderName = "{name}"' in cs and 'ResourcePath = "RealHandsSkin"' in cs
    props = dict(re.findall(r"^\s*(?:\[[^\]]+\]\s*)*(_\w+)\s*\(\"[^\"]*\",\s*(\w+)", shader, re.M))
    assert re.search(r"\[MainTexture\]\s*_MainTex", shader) and props["_MainTex"] == "2D"
    assert props["_Color"] == "Color" and props["_BaseColor"] == "Color"
    avatar = (PKG / "Runtime" / "Unity" / "HandAvatar.cs").read_text()
    assert '"_Color"' in avatar and '"_BaseColor"' in avatar and "SkinMaterial.Create()" in avatar
    read = set()
    for f in ("RealHandsSkinURP.hlsl", "RealHandsSkinBuiltin.cginc"):
        text = (res / f).read_text()
        read |= set(re.findall(r"^\s*(?:half|float)\d?\s+(_[A-Z]\w*)\s*;", text, re.M))
        read |= set(re.findall(r"^\s*(?:sampler2D|TEXTURE2D\()\s*(_[A-Z]\w*)", text, re.M))
    urp_sets = {"_MainTex_ST", "_LightDirection", "_LightPosition"}
    assert read - urp_sets == set(props), (read, set(props))
    assert re.search(r'"RenderPipeline"\s*=\s*"UniversalPipeline"', shader)
    assert '"LightMode" = "ForwardBase"' in shader and '"LightMode" = "ForwardAdd"' in shader
    # every pass draws through the fade (its own shadow, depth and depth-normals passes; no UsePass of a shader
    # that would not fade) and handles single-pass instanced stereo
    modes = re.findall(r'"LightMode" = "(\w+)"', shader)
    assert modes.count("ShadowCaster") == 2 and "DepthOnly" in modes and "DepthNormals" in modes
    assert "UsePass" not in shader and shader.count("multi_compile_instancing") == len(modes)
    for f in ("RealHandsSkinURP.hlsl", "RealHandsSkinBuiltin.cginc"):
        text = (res / f).read_text()
        assert text.count("RealHandsFade(") >= 1 and "UNITY_VERTEX_OUTPUT_STEREO" in text
        assert "UNITY_INITIALIZE_VERTEX_OUTPUT_STEREO" in text and "UNITY_SETUP_STEREO_EYE_INDEX_POST_VERTEX" in text
    # URP: forward-only, so the Deferred path draws it too (with its depth-normals-only pass)
    assert "UniversalForwardOnly" in modes and "DepthNormalsOnly" in modes and "UniversalForward" not in modes
    assert re.search(r'^\s*Fallback "', shader, re.M)
    assert "ShaderImporter:" in (res / "RealHandsSkin.shader.meta").read_text()
    assert "ShaderIncludeImporter:" in (res / "RealHandsSkinCore.hlsl.meta").read_text()


# ---- the sample scenes ------------------------------------------------------------------------------------------

#: scripts of other packages the samples use, by the GUID of their .cs file in that package
FOREIGN_SCRIPTS = {"e0cb9aa70a22847b5925ee5f067c10a9": "Unity.XR.CoreUtils.XROrigin (com.unity.xr.core-utils)"}


def _scene_objects(path: Path) -> dict:
    """{fileID: (class id, body)} of a Unity scene file."""
    import re

    parts = re.split(r"^--- !u!(\d+) &(\d+)\n", path.read_text(), flags=re.M)
    return {int(parts[i + 1]): (int(parts[i]), parts[i + 2]) for i in range(1, len(parts), 3)}


@pytest.mark.parametrize("scene", ["TwoHands/TwoHands.unity", "XRHands/XRHands.unity"])
def test_the_sample_scenes_are_whole(scene):
    """Every reference in a sample scene resolves inside it; parents and children agree; every script is one of
    the package's (by its .meta GUID) or a named foreign one; every field the scene sets on our scripts is a public
    field of that class."""
    import re

    objects = _scene_objects(PKG / "Samples~" / scene)
    ours = {}
    for cs in PKG.rglob("*.cs"):
        meta_text = cs.with_name(cs.name + ".meta").read_text()
        ours[re.search(r"guid: (\w+)", meta_text).group(1)] = cs
    for fid, (cls, body) in objects.items():
        for ref in re.findall(r"\{fileID: (\d+)(?:, guid|\})", body):
            if int(ref) not in (0, 11500000):
                assert int(ref) in objects, f"{scene}: object {fid} refers to missing {ref}"
        if cls == 4:  # Transform
            father = int(re.search(r"m_Father: \{fileID: (\d+)\}", body).group(1))
            if father:
                assert f"{{fileID: {fid}}}" in objects[father][1], f"{scene}: {fid} not a child of its father"
            for child in re.findall(r"^  - \{fileID: (\d+)\}", body.split("m_Father")[0], re.M):
                assert f"m_Father: {{fileID: {fid}}}" in objects[int(child)][1]
        if cls == 114:  # MonoBehaviour
            guid = re.search(r"m_Script: \{fileID: 11500000, guid: (\w+)", body).group(1)
            assert guid in ours or guid in FOREIGN_SCRIPTS, f"{scene}: unknown script {guid}"
            if guid in ours:
                source = ours[guid].read_text()
                fields = re.findall(r"^  (\w+): ", body.split("m_EditorClassIdentifier:")[1], re.M)
                for f in fields:
                    assert re.search(rf"public [\w<>\[\]]+ {f}\b", source), f"{scene}: {ours[guid].name} has no {f}"


def test_the_xr_hands_sample_has_an_xr_origin_and_the_bridge_in_its_session_space():
    objects = _scene_objects(PKG / "Samples~/XRHands/XRHands.unity")
    from tools.unity import meta

    bodies = [b for c, b in objects.values() if c == 114]
    origin = next(b for b in bodies if "e0cb9aa70a22847b5925ee5f067c10a9" in b)
    offset = int(origin.split("m_CameraFloorOffsetObject: {fileID: ")[1].split("}")[0])
    offset_transform = next(f for f, (c, b) in objects.items() if c == 4 and f"m_GameObject: {{fileID: {offset}}}" in b)
    bridge = next(b for b in bodies if meta.guid("Runtime/XRHands/RealHandsXRHandsBridge.cs") in b)
    assert f"sessionSpace: {{fileID: {offset_transform}}}" in bridge
    client = next(f for f, (c, b) in objects.items() if c == 114 and meta.guid("Runtime/Unity/RealHandsClient.cs") in b)
    assert f"client: {{fileID: {client}}}" in bridge
    pkg = json.loads((PKG / "package.json").read_text())
    assert any(s["path"] == "Samples~/XRHands" for s in pkg["samples"])
