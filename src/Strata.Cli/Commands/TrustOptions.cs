using System.CommandLine;
using System.Globalization;
using Strata.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Verification;
using Strata.Runtime.Weights;

namespace Strata.Cli.Commands;

/// <summary>The options of every swarm client that checks what block servers return: the activation envelope and replica spot checks.</summary>
internal sealed class TrustOptions
{
    private readonly Option<double> _verifyFraction = new("--verify-fraction")
    {
        Description = "Probability that a step is also run on a second replica of the same blocks and compared (0 turns spot checks off); see docs/security.md.",
        DefaultValueFactory = _ => CoordinatedChainOptions.DefaultVerifyFraction,
        HelpName = "f",
    };

    private readonly Option<ulong?> _verifySeed = new("--verify-seed")
    {
        Description = "Seed of the spot-check draws (default: unpredictable, so servers cannot tell which steps are checked).",
        HelpName = "n",
    };

    private readonly Option<string> _envelope = new("--activation-envelope")
    {
        Description = "'profile' records the RMS range of each block boundary by running the model folder's blocks once at start; 'generic' only refuses non-finite, all-zero or huge replies.",
        DefaultValueFactory = _ => "profile",
        HelpName = "profile|generic",
    };

    public TrustOptions() => _envelope.AcceptOnlyFromAmong("profile", "generic");

    public void AddTo(Command command)
    {
        command.Options.Add(_verifyFraction);
        command.Options.Add(_verifySeed);
        command.Options.Add(_envelope);
    }

    /// <summary>Sets the trust fields of <paramref name="options"/>; with <paramref name="head"/>, profiles the envelope now (else the generation path does).</summary>
    public CoordinatedChainOptions Apply(ParseResult parseResult, CoordinatedChainOptions options, string modelDirectory, LlamaModel? head = null)
    {
        var fraction = parseResult.GetValue(_verifyFraction);
        if (!(fraction >= 0 && fraction <= 1))
        {
            throw new StrataException(string.Create(CultureInfo.InvariantCulture, $"--verify-fraction is {fraction}; expected a probability in [0, 1]."));
        }

        ActivationEnvelope? envelope = null;
        if (parseResult.GetValue(_envelope) == "generic")
        {
            envelope = ActivationEnvelope.Generic(ModelFolder.LoadConfig(modelDirectory).LayerCount);
        }
        else if (head is not null)
        {
            envelope = ActivationEnvelope.ProfileFolder(modelDirectory, head);
        }

        return options with { VerifyFraction = fraction, VerifySeed = parseResult.GetValue(_verifySeed), Envelope = envelope };
    }
}
