-module(signal_order).
-export([run/0]).
%% Issue 15 item 1: signals between a pair of processes arrive in send order, and a process acts on an
%% exit signal when it handles it (when it is scheduled), not inside the sender's exit/2 call.
idle() -> receive stop -> ok end.
flush() -> receive M -> [M | flush()] after 0 -> [] end.
wait() -> timer:sleep(50).

run() ->
  process_flag(trap_exit, true),
  %% 1. the issue's example
  A = spawn_link(fun() -> ok end),
  B = spawn_link(fun idle/0),
  exit(B, kill),
  wait(),
  io:format("1 issue example: ~p~n", [[R || {'EXIT', P, R} <- flush(), P =:= A orelse P =:= B]]),

  %% 2. a crash after a message vs a kill sent later by the test process
  C = spawn_link(fun() -> receive go -> exit(boom) end end),
  D = spawn_link(fun idle/0),
  C ! go,
  exit(D, kill),
  wait(),
  io:format("2 crash then kill: ~p~n", [[R || {'EXIT', _, R} <- flush()]]),

  %% 3. messages and exit signals from one sender keep their order at a trapping receiver
  Self = self(),
  Rcv = spawn(fun() -> process_flag(trap_exit, true), Self ! ready, receive go -> ok end, timer:sleep(20),
                       Self ! {got, flush()} end),
  receive ready -> ok end,
  Snd = spawn(fun() -> Rcv ! m1, exit(Rcv, reason1), Rcv ! m2, exit(Rcv, normal), Rcv ! m3, Rcv ! go end),
  receive {got, Got} -> io:format("3 same sender order: ~p~n", [[case M of {'EXIT', Snd, R} -> {'EXIT', snd, R}; _ -> M end || M <- Got]]) end,

  %% 4. monitor, then exit: DOWN with the real reason; exit(kill) then monitor: DOWN noproc
  E = spawn(fun idle/0),
  ME = monitor(process, E), exit(E, kill),
  receive {'DOWN', ME, process, E, RE} -> io:format("4a monitor then kill: ~p~n", [RE]) end,
  F = spawn(fun idle/0),
  exit(F, kill), MF = monitor(process, F),
  receive {'DOWN', MF, process, F, RF} -> io:format("4b kill then monitor: ~p~n", [RF]) end,

  %% 5. exit(kill) then link, trapping: {'EXIT', G, noproc}; link is true
  G = spawn(fun idle/0),
  exit(G, kill), LG = link(G),
  wait(),
  io:format("5 kill then link (trapping): ~p ~p~n", [LG, [case M of {'EXIT', G, R} -> {'EXIT', g, R}; _ -> M end || M <- flush()]]),

  %% 6. a non-trapping process with queued messages dies on the exit signal without handling them
  H = spawn(fun() -> timer:sleep(20), receive M -> Self ! {handled, M} after 0 -> ok end end),
  MH = monitor(process, H),
  H ! hello, exit(H, boom),
  receive {'DOWN', MH, process, H, RH} -> io:format("6 queued message then exit: ~p ~p~n", [RH, flush()]) end,

  %% 7. exit(kill) to a process just spawned: it never runs
  I = spawn(fun() -> Self ! {i_ran} end),
  MI = monitor(process, I), exit(I, kill),
  receive {'DOWN', MI, process, I, RI} -> ok end, wait(),
  io:format("7 killed before it ran: ~p ~p~n", [RI, flush()]),

  %% 8. is_process_alive after exit(kill) sees the kill
  J = spawn(fun idle/0),
  exit(J, kill),
  io:format("8 alive after kill: ~p~n", [is_process_alive(J)]),

  %% 9. a dying process's links and a later kill from the test process, both to a third trapping process
  Obs = spawn(fun() -> process_flag(trap_exit, true), Self ! ready,
                       receive {link, L1, L2} -> link(L1), link(L2), Self ! linked end,
                       receive go -> ok end, timer:sleep(30), Self ! {obs, flush()} end),
  receive ready -> ok end,
  K1 = spawn(fun() -> receive go -> ok end end),
  K2 = spawn(fun idle/0),
  Obs ! {link, K1, K2}, receive linked -> ok end,
  K1 ! go, exit(K2, kill), Obs ! go,
  receive {obs, OG} -> io:format("9 observer: ~p~n", [[case M of {'EXIT', K1, R} -> {k1, R}; {'EXIT', K2, R} -> {k2, R}; _ -> M end || M <- OG]]) end,
  ok.
