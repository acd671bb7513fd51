-module(link_exit_order).
-export([run/0]).
idle() -> receive _ -> ok end.
watch(Pids) -> [erlang:monitor(process, P) || P <- Pids], collect(length(Pids), []).
collect(0, Acc) -> lists:reverse(Acc);
collect(N, Acc) -> receive {'DOWN', _, process, P, _} -> collect(N-1, [P|Acc]) end.
trial(Tag, Create, LinkOrder) ->
  Self = self(),
  Ps = [{N, spawn(fun idle/0)} || N <- Create],
  M = maps:from_list(Ps),
  X = spawn(fun() -> [link(maps:get(N, M)) || N <- LinkOrder], idle() end), timer:sleep(10),
  Rev = maps:from_list([{P, N} || {N, P} <- Ps]),
  spawn(fun() -> Self ! {Tag, [maps:get(P, Rev) || P <- watch([P || {_, P} <- Ps])]} end), timer:sleep(10),
  exit(X, kill),
  receive {Tag, R} -> io:format("~p create=~p link=~p died=~p~n", [Tag, Create, LinkOrder, R]) end.
run() ->
  trial(t1, [b, a], [a, b]),
  trial(t2, [a, b, c], [a, b, c]),
  trial(t3, [a, b, c], [c, a, b]),
  trial(t4, [a, b, c, d, e], [a, b, c, d, e]),
  trial(t5, [a, b, c, d, e], [e, c, a, d, b]),
  ok.
