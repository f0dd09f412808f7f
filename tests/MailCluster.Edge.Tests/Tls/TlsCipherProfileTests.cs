using System.Net.Security;
using System.Security.Authentication;
using MailCluster.Edge.Tls;
using Xunit;

namespace MailCluster.Edge.Tests.Tls;

/// <summary>The inbound TLS profiles (#17): parsing, the suites each offers, and what a handshake's options get.
/// T60 checks the same from outside with sslscan against a real node.</summary>
public sealed class TlsCipherProfileTests
{
    [Theory]
    [InlineData("intermediate", TlsCipherProfile.Intermediate)]
    [InlineData(" Compatible ", TlsCipherProfile.Compatible)]
    public void Profiles_parse(string text, TlsCipherProfile expected)
    {
        Assert.Equal(expected, TlsCipherProfiles.Parse(text));
        Assert.Null(TlsCipherProfiles.Problem(text));
    }

    [Theory]
    [InlineData("modern")]
    [InlineData("")]
    [InlineData(null)]
    public void Other_values_are_a_problem_naming_the_choices(string? text)
    {
        Assert.Null(TlsCipherProfiles.Parse(text));
        Assert.Equal($"must be intermediate or compatible, got '{text}'", TlsCipherProfiles.Problem(text));
    }

    [Fact]
    public void Intermediate_is_aead_only_with_forward_secrecy()
    {
        var suites = TlsCipherProfiles.Suites(TlsCipherProfile.Intermediate);
        Assert.Equal(9, suites.Count);
        Assert.All(suites, s => Assert.True(s.ToString().Contains("_GCM_", StringComparison.Ordinal) || s.ToString().Contains("CHACHA20_POLY1305", StringComparison.Ordinal), s.ToString()));
        Assert.All(suites.Where(s => !s.ToString().StartsWith("TLS_AES", StringComparison.Ordinal) && !s.ToString().StartsWith("TLS_CHACHA", StringComparison.Ordinal)),
            s => Assert.StartsWith("TLS_ECDHE_", s.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Compatible_adds_cbc_to_intermediate()
    {
        var intermediate = TlsCipherProfiles.Suites(TlsCipherProfile.Intermediate);
        var compatible = TlsCipherProfiles.Suites(TlsCipherProfile.Compatible);
        Assert.Equal(intermediate, compatible.Take(intermediate.Count));
        Assert.All(compatible.Skip(intermediate.Count), s => Assert.Contains("_CBC_", s.ToString(), StringComparison.Ordinal));
        Assert.NotEmpty(compatible.Skip(intermediate.Count));
    }

    [Theory]
    [InlineData(TlsCipherProfile.Intermediate)]
    [InlineData(TlsCipherProfile.Compatible)]
    public void Apply_sets_tls_1_2_and_1_3_and_the_profile_suites(TlsCipherProfile profile)
    {
        var options = new SslServerAuthenticationOptions { EnabledSslProtocols = SslProtocols.None };
        TlsCipherProfiles.Apply(options, profile);
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, options.EnabledSslProtocols);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(TlsCipherProfiles.Suites(profile), options.CipherSuitesPolicy!.AllowedCipherSuites);
        }
    }
}
