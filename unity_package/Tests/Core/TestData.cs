using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace RealHands.Core.Tests
{
    /// <summary>Finds the golden files the tests read: the package's own Tests/Core/Data~ (shipped with it, written by
    /// tools/build/golden_vectors.py), located by env REALHANDS_TEST_DATA, in a Unity project under Packages/ or
    /// Library/PackageCache/, or upwards from the working directory and this assembly; else a repository's
    /// shared_schema (env REALHANDS_SHARED_SCHEMA, or upwards). Missing data is a broken install: the tests fail.</summary>
    public static class TestData
    {
        const string Package = "com.realhands.unity";
        static string _dir;

        public static string SchemaDir
        {
            get
            {
                if (_dir == null) _dir = Find();
                if (_dir == null)
                    Assert.Fail("the package's test data (Tests/Core/Data~ in " + Package + ") was not found: reinstall the package, or set " +
                                "REALHANDS_TEST_DATA to that folder");
                return _dir;
            }
        }

        static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string path = "")
        {
            return string.IsNullOrEmpty(path) ? "" : Path.GetDirectoryName(path);
        }

        static bool Holds(string dir) { return dir != null && File.Exists(Path.Combine(dir, "wire.json")) && Directory.Exists(Path.Combine(dir, "golden")); }

        static string Find()
        {
            var env = Environment.GetEnvironmentVariable("REALHANDS_TEST_DATA");
            if (Holds(env)) return env;
            var data = Path.Combine("Tests", "Core", "Data~");
            var cwd = Environment.CurrentDirectory;
            var candidates = new List<string> { Path.Combine(cwd, "Packages", Package, data) };
            var cache = Path.Combine(cwd, "Library", "PackageCache");
            if (Directory.Exists(cache))
                foreach (var d in Directory.GetDirectories(cache, Package + "*")) candidates.Add(Path.Combine(d, data));
            candidates.Add(Path.Combine(SourceDir(), "Data~"));  // this file's folder, where the package is (any install)
            foreach (var c in candidates) if (Holds(c)) return c;
            foreach (var start in new[] { cwd, Path.GetDirectoryName(typeof(TestData).Assembly.Location) })
                for (var d = start == null ? null : new DirectoryInfo(start); d != null; d = d.Parent)
                {
                    foreach (var p in new[] { Path.Combine(d.FullName, data), Path.Combine(d.FullName, "unity_package", data) })
                        if (Holds(p)) return p;
                }
            var schema = Environment.GetEnvironmentVariable("REALHANDS_SHARED_SCHEMA");
            if (Holds(schema)) return schema;
            for (var d = new DirectoryInfo(cwd); d != null; d = d.Parent)
                if (Holds(Path.Combine(d.FullName, "shared_schema"))) return Path.Combine(d.FullName, "shared_schema");
            return null;
        }

        public static byte[] Bytes(string relative) { return File.ReadAllBytes(Path.Combine(SchemaDir, relative)); }

        /// <summary>A golden .bin file: u32 frame count, then per frame u32 length + bytes (little-endian).</summary>
        public static List<byte[]> Frames(string relative)
        {
            var b = Bytes(relative);
            int n = BitConverter.ToInt32(b, 0), o = 4;
            var frames = new List<byte[]>();
            for (int i = 0; i < n; i++)
            {
                int len = BitConverter.ToInt32(b, o);
                var f = new byte[len];
                Buffer.BlockCopy(b, o + 4, f, 0, len);
                frames.Add(f);
                o += 4 + len;
            }
            Assert.AreEqual(b.Length, o, relative + " has trailing bytes");
            return frames;
        }

        public static object Json(string relative) { return MiniJson.Parse(File.ReadAllText(Path.Combine(SchemaDir, relative), Encoding.UTF8)); }
    }

    /// <summary>A small JSON reader for test data: objects become Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;,
    /// numbers double, and true/false/null bool/null.</summary>
    public sealed class MiniJson
    {
        readonly string _s;
        int _i;

        MiniJson(string s) { _s = s; }

        public static object Parse(string s)
        {
            var p = new MiniJson(s);
            var v = p.Value();
            p.Ws();
            if (p._i != s.Length) throw new FormatException("trailing characters at " + p._i);
            return v;
        }

        void Ws() { while (_i < _s.Length && char.IsWhiteSpace(_s[_i])) _i++; }

        object Value()
        {
            Ws();
            char c = _s[_i];
            if (c == '{')
            {
                _i++;
                var d = new Dictionary<string, object>();
                Ws();
                if (_s[_i] == '}') { _i++; return d; }
                while (true)
                {
                    Ws();
                    var k = (string)Value();
                    Ws(); Expect(':');
                    d[k] = Value();
                    Ws();
                    if (_s[_i] == ',') { _i++; continue; }
                    Expect('}');
                    return d;
                }
            }
            if (c == '[')
            {
                _i++;
                var l = new List<object>();
                Ws();
                if (_s[_i] == ']') { _i++; return l; }
                while (true)
                {
                    l.Add(Value());
                    Ws();
                    if (_s[_i] == ',') { _i++; continue; }
                    Expect(']');
                    return l;
                }
            }
            if (c == '"') return Str();
            if (_s.Substring(_i).StartsWith("true")) { _i += 4; return true; }
            if (_s.Substring(_i).StartsWith("false")) { _i += 5; return false; }
            if (_s.Substring(_i).StartsWith("null")) { _i += 4; return null; }
            int start = _i;
            while (_i < _s.Length && "+-0123456789.eE".IndexOf(_s[_i]) >= 0) _i++;
            return double.Parse(_s.Substring(start, _i - start), CultureInfo.InvariantCulture);
        }

        void Expect(char c)
        {
            if (_s[_i] != c) throw new FormatException("expected '" + c + "' at " + _i);
            _i++;
        }

        string Str()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (_s[_i] != '"')
            {
                char c = _s[_i++];
                if (c != '\\') { sb.Append(c); continue; }
                char e = _s[_i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u': sb.Append((char)int.Parse(_s.Substring(_i, 4), NumberStyles.HexNumber)); _i += 4; break;
                    default: sb.Append(e); break;
                }
            }
            _i++;
            return sb.ToString();
        }
    }
}
