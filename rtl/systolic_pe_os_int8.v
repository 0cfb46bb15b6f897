// systolic_pe_os_int8 -- INT8 output-stationary systolic processing element.
//
// Function (every rising edge of clk):
//   a_out <= a_in                      (A operand pass-through, to the right)
//   b_out <= b_in                      (B operand pass-through, downwards)
//   acc   <= mac,  mac = (first ? 0 : acc) + a_in * b_in
//   `first` marks the cycle of the first product of a new output (k = 0): the sum restarts.
//   mac is also output combinationally, so the array writes a finished output (the cycle
//   of its last product) straight into its result memory.
// Arithmetic: a_in, b_in signed int8; acc and mac signed int32 wrapping modulo 2^32 -- the
// model is accsim.functional.int8.pe_mac (same MAC as the weight-stationary PE).
// Handshake: none (valid-free); the array feeds zeros where there is no data.
// Latency 1 cycle, initiation interval 1 (UNIT_TIMING["systolic_pe_os_int8"]).
// Reset: synchronous, active high; clears a_out, b_out and acc.
`timescale 1ns/1ps
module systolic_pe_os_int8 (
    input  wire               clk,
    input  wire               rst,
    input  wire               first,
    input  wire signed [7:0]  a_in,
    output reg  signed [7:0]  a_out,
    input  wire signed [7:0]  b_in,
    output reg  signed [7:0]  b_out,
    output wire signed [31:0] mac
);
    reg signed [31:0] acc;
    wire signed [15:0] product = a_in * b_in;

    assign mac = (first ? 32'sd0 : acc) + {{16{product[15]}}, product};

    always @(posedge clk) begin
        if (rst) begin
            a_out <= 8'sd0;
            b_out <= 8'sd0;
            acc <= 32'sd0;
        end else begin
            a_out <= a_in;
            b_out <= b_in;
            acc <= mac;
        end
    end
endmodule
