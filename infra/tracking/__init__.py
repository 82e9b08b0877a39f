"""The tracking service's CDK: IoT Core device authentication (`iot`) and the live view's WebSocket
API (`websocket`)."""
