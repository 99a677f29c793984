using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Strata.Runtime.Engine;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Gateway;

/// <summary>A backend that runs <see cref="TextGenerator"/> on a chain obtained per request: a <see cref="LocalBlockChain"/> here, a routed chain of block servers later.</summary>
/// <remarks>
/// The generation runs on the thread pool and hands tokens over a small bounded channel, so a slow client
/// slows the generation instead of buffering it. A chain the factory returns that is <see cref="IDisposable"/>
/// or <see cref="IAsyncDisposable"/> is disposed when its request ends.
/// </remarks>
public sealed class ChainCompletionBackend : ICompletionBackend
{
    private const int ChannelCapacityTokens = 64;

    private readonly LlamaModel _model;
    private readonly Func<IBlockChain> _chainFactory;
    private readonly TimeProvider _time;
    private long _failovers;

    /// <summary>Creates a backend serving <paramref name="model"/> under <paramref name="modelId"/>.</summary>
    /// <param name="model">The model holding the embedding, final norm and LM head (the blocks run where each chain says).</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="chainFactory">Gives the chain of one request; called once per request.</param>
    /// <param name="modelId">The id clients use (for example the model folder's name).</param>
    /// <param name="timeProvider">Clock handed to <see cref="TextGenerator"/> (the system clock by default).</param>
    public ChainCompletionBackend(LlamaModel model, ITextTokenizer tokenizer, Func<IBlockChain> chainFactory, string modelId, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(chainFactory);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        _model = model;
        _chainFactory = chainFactory;
        _time = timeProvider ?? TimeProvider.System;
        Tokenizer = tokenizer;
        ModelId = modelId;
    }

    /// <inheritdoc/>
    public string ModelId { get; }

    /// <inheritdoc/>
    public ITextTokenizer Tokenizer { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int> EndOfSequenceTokenIds => _model.Config.EosTokenIds;

    /// <inheritdoc/>
    public int ContextLengthTokens => _model.Config.Architecture.MaxContextTokens;

    /// <summary>Failovers (re-routes after a dead or full block server) of the requests that have ended, when the chains report them.</summary>
    public long Failovers => Interlocked.Read(ref _failovers);

    /// <inheritdoc/>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(
        IReadOnlyList<int> promptTokens, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var chain = _chainFactory();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<GeneratedToken>(new BoundedChannelOptions(ChannelCapacityTokens) { SingleReader = true, SingleWriter = true });
        var generator = new TextGenerator(_model, chain, _time);
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    await generator.GenerateWithLogprobsAsync(promptTokens, options, (GeneratedToken token, CancellationToken ct) => channel.Writer.WriteAsync(token, ct), stop.Token).ConfigureAwait(false);
                    channel.Writer.TryComplete();
                }
                catch (Exception exception)
                {
                    channel.Writer.TryComplete(exception);
                }
            },
            CancellationToken.None);
        try
        {
            await foreach (var token in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return token;
            }
        }
        finally
        {
            // Ends the generation when the consumer stops early; the producer never throws.
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
            if (chain is Coordination.CoordinatedBlockChain coordinated)
            {
                Interlocked.Add(ref _failovers, coordinated.Failovers);
            }

            if (chain is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (chain is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }
}
