using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Smtp.Tests;

public class XtextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a+2Bb", "a+b")]
    [InlineData("rfc822;user+40example.com", "rfc822;user@example.com")]
    [InlineData("x+3Dy+20z", "x=y z")]
    [InlineData("trailing+2", "trailing+2")]
    public void Decodes_hex_escapes(string input, string expected) => Assert.Equal(expected, Xtext.Decode(input));
}
