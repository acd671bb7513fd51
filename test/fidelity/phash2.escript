#!/usr/bin/env escript
%% Prints erlang:phash2/1 and erlang:phash2/2 of many terms as JSON, for test/fidelity-phash2.test.ts.
%% Regenerate the fixture on OTP 25:  escript test/fidelity/phash2.escript > test/fidelity/phash2.json
%% Terms are written in the scenario encoding (otp-semantics.md §3.1): atoms as strings, {"tuple": [...]},
%% {"str": "..."} for binaries, JSON lists for lists, plus {"float": X} so that 2.0 stays a float and
%% {"int": "digits"} for integers beyond JavaScript's safe range.
-mode(compile).

main(_) ->
    Ints = [0, 1, -1, 2, 3, 7, 42, 100, 255, 256, -255, -256, 1000, 65535, 65536, -65536,
            134217727, 134217728, -134217728, -134217729, 2147483647, 2147483648, -2147483648,
            4294967295, 4294967296, 1 bsl 40, -(1 bsl 40), 576460752303423487, 576460752303423488,
            -576460752303423488, -576460752303423489, 1 bsl 64, (1 bsl 64) + 12345, -(1 bsl 70) - 3,
            9007199254740991, 123456789012345678901234567890],
    Floats = [0.0, 1.0, -1.0, 1.5, -2.25, 3.14159, 1.0e100, 2.0, 0.1],
    Atoms = [a, b, ok, error, normal, shutdown, nil, true, false, undefined, 'EXIT', 'DOWN', abcdefghijklmnop,
             'Elixir.Registry', 'hello world', 'user-42', 'é', worker_1, worker_2, worker_10],
    Bins = [<<>>, <<"x">>, <<"ab">>, <<"abc">>, <<"abcd">>, <<"hello">>, <<"hello world!">>,
            <<"hello world!!">>, <<"a longer binary key of more than twenty-four bytes">>, <<"user:42">>,
            <<"é"/utf8>>, <<0, 255, 128>>],
    Lists = [[], [1], [1, 2, 3], [a], [a, b], "abc", "abcd", "abcde", [256], [1, 256, 2], [[]], [[1], [2]],
             [a | b], [1 | 2], [<<"x">>], [{a, 1}], lists:seq(1, 20), [-1], [255, 0]],
    Tuples = [{}, {a}, {a, b}, {1, 2}, {ok, 1}, {error, <<"why">>}, {a, {b, {c}}}, {[], []},
              {1, 2.5, <<"x">>, [y]}, {user, 42}, {<<"room">>, 7}],
    Maps = [#{}, #{a => 1}, #{a => 1, b => 2}, #{<<"k">> => [1, 2]}, #{1 => {x}}],
    Terms = Ints ++ Floats ++ Atoms ++ Bins ++ Lists ++ Tuples ++ Maps,
    Ranges = [1, 2, 3, 4, 7, 8, 10, 16, 100, 4294967296],
    io:put_chars("[\n"),
    Lines = [line(T, Ranges) || T <- Terms],
    io:put_chars(lists:join(",\n", Lines)),
    io:put_chars("\n]\n").

line(T, Ranges) ->
    Rs = lists:join(",", [io_lib:format("\"~b\":~b", [R, erlang:phash2(T, R)]) || R <- Ranges]),
    io_lib:format("{\"term\":~s,\"phash2\":~b,\"ranges\":{~s}}", [enc(T), erlang:phash2(T), Rs]).

enc(I) when is_integer(I), abs(I) =< 9007199254740991 -> integer_to_list(I);
enc(I) when is_integer(I) -> io_lib:format("{\"int\":\"~b\"}", [I]);
enc(F) when is_float(F) -> io_lib:format("{\"float\":~s}", [float_to_list(F, [short])]);
enc(A) when is_atom(A) -> json_string(unicode:characters_to_binary(atom_to_list(A)));
enc(B) when is_binary(B) -> io_lib:format("{\"bytes\":[~s]}", [lists:join(",", [integer_to_list(X) || X <- binary_to_list(B)])]);
enc(T) when is_tuple(T) -> ["{\"tuple\":[", lists:join(",", [enc(X) || X <- tuple_to_list(T)]), "]}"];
enc(M) when is_map(M) -> ["{\"map\":[", lists:join(",", [["[", enc(K), ",", enc(V), "]"] || {K, V} <- maps:to_list(M)]), "]}"];
enc(L) when is_list(L) -> enc_list(L, []).

enc_list([], Acc) -> ["[", lists:join(",", lists:reverse(Acc)), "]"];
enc_list([H | T], Acc) when is_list(T) -> enc_list(T, [enc(H) | Acc]);
enc_list([H | T], Acc) -> ["{\"improper\":[[", lists:join(",", lists:reverse([enc(H) | Acc])), "],", enc(T), "]}"].

json_string(Bin) ->
    [$", [esc(C) || C <- unicode:characters_to_list(Bin)], $"].
esc($") -> "\\\"";
esc($\\) -> "\\\\";
esc(C) when C < 128 -> C;
esc(C) -> unicode:characters_to_binary([C]).
