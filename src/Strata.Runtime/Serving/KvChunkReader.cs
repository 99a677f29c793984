using Grpc.Core;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>
/// Checks a stream of <see cref="KvBlock"/> chunks as it arrives: one session, blocks in increasing order, each
/// block's chunks contiguous in token order from 0 to its token count, every chunk of the stated width and byte
/// size. A chunk that breaks a rule fails with <c>failure</c> (INVALID_ARGUMENT on a server, INTERNAL on a client).
/// </summary>
internal sealed class KvChunkReader(int keyValueDimension, int maxBlockTokens, StatusCode failure)
{
    private int _keyValueDimension = keyValueDimension;
    private string? _sessionId;
    private int _block = -1;
    private int _lastBlock = -1;
    private int _nextToken;

    /// <summary>Width of a token's keys: given up front, or taken from the first chunk.</summary>
    public int KeyValueDimension => _keyValueDimension;

    /// <summary>Tokens of the block of the last chunk accepted.</summary>
    public int BlockTokens { get; private set; }

    /// <summary>True when the last chunk accepted completed its block.</summary>
    public bool BlockComplete => _block < 0;

    /// <summary>Checks <paramref name="chunk"/> against the sequence so far; true when it starts a block.</summary>
    public bool Accept(KvBlock chunk)
    {
        _sessionId ??= chunk.SessionId;
        if (!string.Equals(_sessionId, chunk.SessionId, StringComparison.Ordinal))
        {
            Fail($"KV chunk of block {chunk.BlockIndex} is for session '{chunk.SessionId}'; this stream is for '{_sessionId}'.");
        }

        if (_keyValueDimension == 0 && chunk.KeyValueDimension > 0)
        {
            _keyValueDimension = chunk.KeyValueDimension;
        }

        if (chunk.KeyValueDimension != _keyValueDimension)
        {
            Fail($"KV block {chunk.BlockIndex} has width {chunk.KeyValueDimension}; expected {_keyValueDimension}.");
        }

        var starts = _block < 0;
        if (starts)
        {
            // first_token = 0 and block_token_count = 0: a whole block in one message (the format before chunking).
            var blockTokens = chunk.FirstToken == 0 && chunk.BlockTokenCount == 0 ? chunk.TokenCount : chunk.BlockTokenCount;
            if (chunk.BlockIndex <= _lastBlock)
            {
                Fail($"KV block {chunk.BlockIndex} comes after block {_lastBlock}; blocks must come once each, in increasing order.");
            }

            if (chunk.FirstToken != 0)
            {
                Fail($"KV block {chunk.BlockIndex} starts at token {chunk.FirstToken}; a block's first chunk must start at token 0.");
            }

            if (blockTokens < 0 || (maxBlockTokens > 0 && blockTokens > maxBlockTokens))
            {
                Fail($"KV block {chunk.BlockIndex} claims {blockTokens} tokens; at most {maxBlockTokens} are allowed.");
            }

            _block = chunk.BlockIndex;
            BlockTokens = blockTokens;
            _nextToken = 0;
        }
        else if (chunk.BlockIndex != _block || chunk.BlockTokenCount != BlockTokens || chunk.FirstToken != _nextToken)
        {
            Fail($"KV chunk of block {chunk.BlockIndex} (tokens {chunk.FirstToken} + {chunk.TokenCount} of {chunk.BlockTokenCount}) arrives while block {_block} has {_nextToken} of {BlockTokens} tokens; expected its chunk from token {_nextToken}.");
        }

        if (chunk.TokenCount < (BlockTokens > 0 ? 1 : 0) || chunk.TokenCount > BlockTokens - _nextToken)
        {
            Fail($"KV chunk of block {chunk.BlockIndex} carries {chunk.TokenCount} tokens from token {_nextToken}; the block has {BlockTokens}.");
        }

        var bytes = (long)chunk.TokenCount * _keyValueDimension * sizeof(float);
        if (chunk.Keys.Length != bytes || chunk.Values.Length != bytes)
        {
            Fail($"KV chunk of block {chunk.BlockIndex} holds {chunk.Keys.Length} bytes of keys and {chunk.Values.Length} of values; {chunk.TokenCount} tokens of width {_keyValueDimension} need {bytes} each (fp32).");
        }

        _nextToken += chunk.TokenCount;
        if (_nextToken == BlockTokens)
        {
            _lastBlock = _block;
            _block = -1;
        }

        return starts;
    }

    /// <summary>Fails unless the stream ended between blocks.</summary>
    public void Finish()
    {
        if (_block >= 0)
        {
            Fail($"The KV stream ended inside block {_block}, after {_nextToken} of its {BlockTokens} tokens.");
        }
    }

    private void Fail(string message) => throw new RpcException(new Status(failure, message));
}
