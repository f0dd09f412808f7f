using System.Text;
using MailCluster.Edge.Auth;
using Xunit;

namespace MailCluster.Edge.Tests.Auth;

/// <summary>Seeded random inputs: the parsers return a step or false, never throw, and PLAIN round-trips.</summary>
public class AuthFuzzTests
{
    private const int Cases = 2_000;

    private static string RandomText(Random random, int maxLength, bool includeNul)
    {
        var chars = new StringBuilder();
        var length = random.Next(maxLength + 1);
        while (chars.Length < length)
        {
            var c = random.Next(4) switch
            {
                0 => (char)random.Next(0x20, 0x7F),
                1 => (char)random.Next(0xA0, 0x3000),
                2 => "=*+/ $"[random.Next(6)],
                _ => includeNul ? '\0' : 'x',
            };
            chars.Append(c);
        }

        return chars.ToString();
    }

    [Fact]
    public void Random_lines_never_throw()
    {
        var random = new Random(4954);
        for (var i = 0; i < Cases; i++)
        {
            var line = random.Next(2) == 0
                ? RandomText(random, 40, includeNul: true)
                : Convert.ToBase64String(Encoding.UTF8.GetBytes(RandomText(random, 40, includeNul: true)));
            foreach (var name in SaslMechanisms.Advertised)
            {
                var first = SaslMechanisms.Create(name)!;
                Assert.IsAssignableFrom<SaslStep>(first.Start(line));

                var second = SaslMechanisms.Create(name)!;
                var step = second.Start(null);
                while (step is SaslChallenge)
                {
                    step = second.Continue(line);
                }

                Assert.True(step is SaslCredentials or SaslFailure);
            }

            Assert.False(PasswordHasher.IsWellFormed(line));
            Assert.False(PasswordHasher.Verify("x", "pbkdf2-sha256$1$" + line));
        }
    }

    [Fact]
    public void Plain_round_trips_any_nul_free_identity_and_password()
    {
        var random = new Random(4616);
        for (var i = 0; i < Cases; i++)
        {
            var user = "u" + RandomText(random, 20, includeNul: false);
            var password = "p" + RandomText(random, 40, includeNul: false);
            var line = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
            Assert.Equal(new SaslCredentials(string.Empty, user, password), new PlainMechanism().Start(line));
        }
    }
}
