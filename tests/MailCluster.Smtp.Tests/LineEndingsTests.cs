using FsCheck;
using FsCheck.Fluent;

namespace MailCluster.Smtp.Tests;

public class LineEndingsTests
{
    private static bool Reference(byte[] s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if ((s[i] == '\r' && (i + 1 >= s.Length || s[i + 1] != '\n')) || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Mostly CRLF text (so "no bare ending" is common) with a rare lone CR or LF, at lengths on both sides of
    /// the vector width.</summary>
    private static readonly Gen<byte[]> Texts = Gen.Frequency(
            (20, Gen.Elements("abc", "\r\n", "x\r\n", "0123456789abcdef0123456789abcdef\r\n").Select(Bytes.Of)),
            (1, Gen.Elements("\r", "\n", "\n\r").Select(Bytes.Of)))
        .ListOf()
        .Select(parts => parts.SelectMany(p => p).ToArray());

    [Fact]
    public void Has_bare_matches_an_octet_at_a_time_reference() =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(3000), Prop.ForAll(Texts.ToArbitrary(), text => LineEndings.HasBare(text) == Reference(text)));

    [Fact]
    public void A_lone_CR_or_LF_is_found_at_every_offset()
    {
        var clean = Bytes.Of(string.Concat(Enumerable.Repeat("0123456789abcdefghijklmnopqrstu\r\n", 8)));
        Assert.False(LineEndings.HasBare(clean));
        for (var i = 0; i < clean.Length; i++)
        {
            foreach (var end in "\r\n"u8.ToArray())
            {
                var text = (byte[])clean.Clone();
                text[i] = end;
                Assert.Equal(Reference(text), LineEndings.HasBare(text));
            }
        }
    }
}
