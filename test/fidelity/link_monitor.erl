-module(link_monitor).
-export([run/0]).
run() ->
  %% item 2: link to dead, not trapping
  Dead = spawn(fun() -> ok end), timer:sleep(10),
  {P1, R1} = spawn_monitor(fun() -> link(Dead), receive after 100 -> ok end end),
  receive {'DOWN', R1, process, P1, Reason1} -> io:format("link-dead-nontrap: ~p~n", [Reason1]) end,
  {P1b, R1b} = spawn_monitor(fun() -> R = (catch link(Dead)), io:format("catch link: ~p~n", [R]), R2 = (try link(Dead) catch C:E -> {C,E} end), io:format("try link: ~p~n", [R2]) end),
  receive {'DOWN', R1b, process, P1b, Reason1b} -> io:format("after catch: ~p~n", [Reason1b]) end,
  %% trapping
  {P2, R2} = spawn_monitor(fun() -> process_flag(trap_exit, true), Res = link(Dead), receive M -> io:format("trap link result ~p msg ~p~n", [Res, M]) after 100 -> io:format("trap link result ~p no msg~n", [Res]) end end),
  receive {'DOWN', R2, process, P2, Reason2} -> io:format("trap exit: ~p~n", [Reason2]) end,
  %% item 3: monitor unknown name
  Ref = monitor(process, no_such_name),
  receive M3 -> io:format("monitor name: ~p ref_match=~p~n", [M3, element(2,M3) =:= Ref]) end,
  _Ref2 = monitor(process, {no_such_name, node()}),
  receive M4 -> io:format("monitor name node: ~p~n", [M4]) end,
  %% demonitor info
  Pid = spawn(fun() -> receive _ -> ok end end),
  Ref5 = monitor(process, Pid),
  io:format("demonitor info: ~p~n", [erlang:demonitor(Ref5, [info])]),
  io:format("demonitor info again: ~p~n", [erlang:demonitor(Ref5, [info])]),
  Ref6 = monitor(process, Pid), exit(Pid, kill), timer:sleep(10),
  io:format("demonitor flush,info after DOWN: ~p~n", [erlang:demonitor(Ref6, [flush, info])]),
  io:format("mailbox: ~p~n", [erlang:process_info(self(), messages)]),
  Pid7 = spawn(fun() -> receive _ -> ok end end),
  Ref7 = monitor(process, Pid7), exit(Pid7, kill), timer:sleep(10),
  io:format("demonitor info after DOWN no flush: ~p~n", [erlang:demonitor(Ref7, [info])]),
  io:format("mailbox: ~p~n", [erlang:process_info(self(), messages)]),
  flush(),
  ok.
flush() -> receive _ -> flush() after 0 -> ok end.
