using System.Runtime.CompilerServices;

// The Auth tests check the unknown-user timing decoy (UserDirectory.DummyHash), which is deliberately not public.
[assembly: InternalsVisibleTo("MailCluster.Edge.Tests")]
